// Unit tests of the status server's HTTP helpers: end of head (CRLF, bare LF, mixed), request
// line and header parsing, keep-alive rules, response formatting (HEAD without a body, Allow).
#include <doctest/doctest.h>

#include "agent/metrics/status_http.h"

namespace ingestd::status_http {
namespace {

TEST_CASE("status http: findHeadEnd accepts CRLF, bare LF and mixed line endings") {
  CHECK(findHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n\r\nrest") == 27u);
  CHECK(findHeadEnd("GET / HTTP/1.1\nHost: x\n\nrest") == 24u);
  CHECK(findHeadEnd("GET / HTTP/1.1\r\nHost: x\n\r\n") == 26u);
  CHECK(findHeadEnd("GET / HTTP/1.1\nHost: x\r\n\n") == 25u);
  CHECK(findHeadEnd("GET / HTTP/1.1\r\n\r\n") == 18u);
  CHECK_FALSE(findHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n").has_value());
  CHECK_FALSE(findHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n\r").has_value());
  CHECK_FALSE(findHeadEnd("").has_value());
  // Resuming after more bytes arrived finds a terminator that straddles the two reads.
  std::string data = "GET / HTTP/1.1\r\nHost: x\r\n\r";
  const std::size_t from = data.size() - 2;
  data += "\n";
  CHECK(findHeadEnd(data, from) == data.size());
}

TEST_CASE("status http: leading empty lines are skipped") {
  CHECK(leadingEmptyLines("\r\n\nGET") == 3u);
  CHECK(leadingEmptyLines("GET") == 0u);
  CHECK(leadingEmptyLines("\r\n") == 2u);
}

TEST_CASE("status http: request line, target and version") {
  auto r = parseRequestHead("GET /metrics?name[]=x HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE(r.error == 0);
  CHECK(r.head.method == "GET");
  CHECK(r.head.path == "/metrics");
  CHECK(r.head.minor_version == 1);
  CHECK(r.head.keep_alive);
  CHECK_FALSE(r.head.has_body);
  r = parseRequestHead("HEAD http://host:9/readyz HTTP/1.0\n\n");
  REQUIRE(r.error == 0);
  CHECK(r.head.path == "/readyz");
  CHECK_FALSE(r.head.keep_alive);
  CHECK(parseRequestHead("GET /a HTTP/2.0\r\n\r\n").error == 505);
  for (const char* bad :
       {"GET\r\n\r\n", "GET /a\r\n\r\n", "GET /a  HTTP/1.1\r\n\r\n", "GET /a HTTP/1.1 \r\n\r\n",
        "GET a HTTP/1.1\r\n\r\n", "GE\x01T /a HTTP/1.1\r\n\r\n", "GET /a\x7f HTTP/1.1\r\n\r\n",
        "GET /a HTTP/1.x\r\n\r\n", "GET /a HTTP/11\r\n\r\n", "\r\n\r\n"}) {
    CAPTURE(bad);
    CHECK(parseRequestHead(bad).error == 400);
  }
}

TEST_CASE("status http: headers, Connection and bodies") {
  auto r = parseRequestHead("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n");
  REQUIRE(r.error == 0);
  CHECK_FALSE(r.head.keep_alive);
  r = parseRequestHead("GET / HTTP/1.0\r\nconnection:keep-alive\r\n\r\n");
  CHECK(r.head.keep_alive);
  r = parseRequestHead("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n");
  CHECK(r.head.has_body);
  r = parseRequestHead("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  CHECK_FALSE(r.head.has_body);
  r = parseRequestHead("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(r.head.has_body);
  for (const char* bad :
       {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\nA : b\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", "GET / HTTP/1.1\r\n: b\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"}) {
    CAPTURE(bad);
    CHECK(parseRequestHead(bad).error == 400);
  }
}

TEST_CASE("status http: responses carry Content-Length, HEAD leaves the body out") {
  ResponseSpec spec;
  spec.body = "ok\n";
  CHECK(formatResponse(spec) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n"
        "Cache-Control: no-store\r\nConnection: keep-alive\r\n\r\nok\n");
  spec.send_body = false;
  spec.keep_alive = false;
  CHECK(formatResponse(spec) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n");
  ResponseSpec m;
  m.code = 405;
  m.allow_header = true;
  auto text = formatResponse(m);
  CHECK(text.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0) == 0);
  CHECK(text.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
  CHECK(reasonPhrase(431) == "Request Header Fields Too Large");
}

}  // namespace
}  // namespace ingestd::status_http
