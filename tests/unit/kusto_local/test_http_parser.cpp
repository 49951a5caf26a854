// Unit tests for kusto-local's incremental HTTP/1.1 request parser.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tools/kusto-local/http_parser.h"

using kusto_local::HttpLimits;
using kusto_local::HttpRequest;
using kusto_local::HttpRequestParser;
using kusto_local::ParseState;

namespace {

struct Parsed {
  std::vector<HttpRequest> requests;
  int error = 0;
};

// Feeds input in pieces of `step` bytes (0: all at once), collecting complete requests.
Parsed parseAll(std::string_view input, std::size_t step = 0, HttpLimits limits = {}) {
  Parsed out;
  HttpRequestParser parser(limits);
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t n = step == 0 ? input.size() - pos : std::min(step, input.size() - pos);
    std::string_view piece = input.substr(pos, n);
    pos += n;
    while (!piece.empty() || parser.complete()) {
      std::size_t used = parser.feed(piece);
      piece.remove_prefix(used);
      if (parser.failed()) {
        out.error = parser.errorStatus();
        return out;
      }
      if (parser.complete()) {
        out.requests.push_back(parser.request());
        parser.reset();
        continue;
      }
      if (used == 0) {
        break;
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("kusto-local http parser: simple GET with headers, case-insensitive names") {
  Parsed p = parseAll(
      "GET /v1/rest/auth/metadata?x=1 HTTP/1.1\r\nHost: a\r\n"
      "X-MS-Client-Request-Id: KNC.execute;1\r\n\r\n");
  REQUIRE(p.requests.size() == 1);
  const HttpRequest& r = p.requests[0];
  CHECK(r.method == "GET");
  CHECK(r.path == "/v1/rest/auth/metadata");
  CHECK(r.query == "x=1");
  REQUIRE(r.header("x-ms-client-request-id") != nullptr);
  CHECK(*r.header("x-ms-client-request-id") == "KNC.execute;1");
  CHECK(r.keep_alive);
  CHECK(r.body.empty());
}

TEST_CASE("kusto-local http parser: Content-Length body and pipelined requests") {
  std::string input =
      "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
      "POST /b HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc"
      "GET /c HTTP/1.1\r\nConnection: close\r\n\r\n";
  for (std::size_t step : {0, 1, 2, 7, 64}) {
    CAPTURE(step);
    Parsed p = parseAll(input, step);
    REQUIRE(p.error == 0);
    REQUIRE(p.requests.size() == 3);
    CHECK(p.requests[0].body == "hello");
    CHECK(p.requests[1].body == "abc");
    CHECK(p.requests[1].path == "/b");
    CHECK(p.requests[2].path == "/c");
    CHECK_FALSE(p.requests[2].keep_alive);
  }
}

TEST_CASE("kusto-local http parser: chunked body with extensions and trailers, byte by byte") {
  std::string input =
      "POST /v1/rest/ingest/db/t?streamFormat=csv HTTP/1.1\r\n"
      "Transfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "1A ; ext\r\nabcdefghijklmnopqrstuvwxyz\r\n"
      "0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n"
      "GET /next HTTP/1.1\r\n\r\n";
  for (std::size_t step : {0, 1, 3}) {
    CAPTURE(step);
    Parsed p = parseAll(input, step);
    REQUIRE(p.error == 0);
    REQUIRE(p.requests.size() == 2);
    CHECK(p.requests[0].chunked);
    CHECK(p.requests[0].body == "helloabcdefghijklmnopqrstuvwxyz");
    REQUIRE(p.requests[0].header("x-trailer") != nullptr);
    CHECK(*p.requests[0].header("x-trailer") == "yes");
    CHECK(p.requests[1].path == "/next");
  }
}

TEST_CASE("kusto-local http parser: chunked body with bare LF line endings") {
  Parsed p = parseAll("POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n");
  REQUIRE(p.error == 0);
  REQUIRE(p.requests.size() == 1);
  CHECK(p.requests[0].body == "abc");
}

TEST_CASE("kusto-local http parser: Expect 100-continue is reported until the body starts") {
  HttpRequestParser parser;
  std::string head = "POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
  CHECK(parser.feed(head) == head.size());
  CHECK(parser.state() == ParseState::kBody);
  CHECK(parser.needsContinue());
  parser.feed("ab");
  CHECK_FALSE(parser.needsContinue());
  parser.feed("cd");
  CHECK(parser.complete());
  CHECK(parser.request().body == "abcd");
}

TEST_CASE("kusto-local http parser: Expect 100-continue with chunked body") {
  HttpRequestParser parser;
  parser.feed("POST /x HTTP/1.1\r\nExpect: 100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(parser.needsContinue());
  parser.feed("2\r\nok\r\n0\r\n\r\n");
  CHECK(parser.complete());
  CHECK(parser.request().body == "ok");
}

TEST_CASE("kusto-local http parser: oversize bodies are refused with 413") {
  HttpLimits limits;
  limits.max_body_bytes = 10;
  CHECK(parseAll("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 0, limits).error == 413);
  CHECK(parseAll("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", 0, limits)
            .requests.size() == 1);
  CHECK(parseAll("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "6\r\n012345\r\n5\r\n01234\r\n0\r\n\r\n",
                 0, limits)
            .error == 413);
  CHECK(parseAll("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "ffffffffffffffffffff\r\n",
                 0, limits)
            .error == 413);
  // The default limit is the service's 10 MiB cap.
  CHECK(parseAll("POST / HTTP/1.1\r\nContent-Length: 10485761\r\n\r\n").error == 413);
}

TEST_CASE("kusto-local http parser: header section too large gives 431") {
  HttpLimits limits;
  limits.max_head_bytes = 100;
  std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(200, 'a') + "\r\n\r\n";
  CHECK(parseAll(big, 0, limits).error == 431);
  CHECK(parseAll(big, 1, limits).error == 431);
}

TEST_CASE("kusto-local http parser: malformed requests are 400, 501 or 505") {
  CHECK(parseAll("GARBAGE\r\n\r\n").error == 400);
  CHECK(parseAll("GET / HTTP/1.1 extra\r\n\r\n").error == 400);
  CHECK(parseAll("G(T / HTTP/1.1\r\n\r\n").error == 400);
  CHECK(parseAll("GET / HTTP/2.0\r\n\r\n").error == 505);
  CHECK(parseAll("GET / HTTX/1.1\r\n\r\n").error == 400);
  CHECK(parseAll("GET / HTTP/1.1\r\nNoColon\r\n\r\n").error == 400);
  CHECK(parseAll("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n").error == 400);
  CHECK(parseAll("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n").error == 400);
  CHECK(parseAll("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n").error == 400);
  CHECK(parseAll("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n").error == 400);
  CHECK(parseAll("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").error == 400);
  CHECK(parseAll("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
            .error == 400);
  CHECK(parseAll("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").error == 501);
  CHECK(parseAll("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").error == 400);
  CHECK(parseAll("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX").error == 400);
}

TEST_CASE("kusto-local http parser: keep-alive rules for HTTP/1.0 and 1.1") {
  CHECK_FALSE(parseAll("GET / HTTP/1.0\r\n\r\n").requests.at(0).keep_alive);
  CHECK(parseAll("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").requests.at(0).keep_alive);
  CHECK_FALSE(parseAll("GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n")
                  .requests.at(0)
                  .keep_alive);
}

TEST_CASE("kusto-local http parser: absolute-form target and leading empty lines") {
  Parsed p = parseAll("\r\n\r\nGET http://host:8080/v1/rest/query?db=x HTTP/1.1\r\n\r\n");
  REQUIRE(p.requests.size() == 1);
  CHECK(p.requests[0].path == "/v1/rest/query");
  CHECK(p.requests[0].query == "db=x");
}

TEST_CASE("kusto-local http parser: reset keeps working after many requests") {
  HttpRequestParser parser;
  for (int i = 0; i < 100; ++i) {
    std::string req = "POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    CHECK(parser.feed(req) == req.size());
    REQUIRE(parser.complete());
    CHECK(parser.request().body == "abc");
    parser.reset();
  }
}
