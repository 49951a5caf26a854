// Integration tests of HttpClient on a real loop against a scripted local server: status codes
// and headers, Retry-After, dropped connections, timeouts, many concurrent requests, keep-alive
// reuse, cancel and close with requests in flight, gzip-encoded answers. Each test ends with a
// clean loop close.
#include <doctest/doctest.h>

#include <atomic>
#include <optional>

#include "agent/http/http_client.h"
#include "tests/integration/fake_http_server.h"
#include "tests/support/http_client.h"

using namespace std::chrono_literals;
using ingestd::fakehttp::FakeHttpServer;
using ingestd::fakehttp::Reply;
using ingestd::fakehttp::Request;
using ingestd::fakehttp::runUntil;

namespace {

struct Fixture {
  ingestd::Loop loop;
  ingestd::Logger log{ingestd::LogLevel::kWarn};
  std::unique_ptr<ingestd::CurlHttpClient> client;

  explicit Fixture(ingestd::HttpClientOptions options = {}) {
    ingestd::Loop::markLoopThread();
    client = std::make_unique<ingestd::CurlHttpClient>(loop, log, std::move(options));
  }

  std::optional<ingestd::HttpResponse> fetch(ingestd::HttpRequest req,
                                             std::chrono::milliseconds timeout = 10s) {
    std::optional<ingestd::HttpResponse> out;
    client->start(std::move(req), [&](ingestd::HttpResponse r) { out = std::move(r); });
    runUntil(
        loop, [&] { return out.has_value(); }, timeout);
    return out;
  }

  // Closes the client and the loop; true when nothing leaked.
  bool closeAll() {
    bool closed = false;
    client->close([&] { closed = true; });
    runUntil(
        loop, [&] { return closed; }, 5s);
    client.reset();
    return closed && loop.shutdown() == 0;
  }
};

ingestd::HttpRequest post(const std::string& url, std::string body) {
  ingestd::HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.body = std::make_shared<const std::string>(std::move(body));
  r.headers = {{"Content-Type", "application/octet-stream"}, {"X-Test", "yes"}};
  return r;
}

}  // namespace

TEST_CASE("http client: 200 with headers and body, request arrives as sent") {
  FakeHttpServer server([](const Request&) {
    Reply r;
    r.status = 200;
    r.headers = {{"X-Ms-Activity-Id", "act-1"}, {"Content-Type", "application/json"}};
    r.body = R"({"Tables":[]})";
    return r;
  });
  Fixture f;
  auto resp = f.fetch(post(server.url() + "/v1/rest/ingest/db/t?streamFormat=csv", "a,b\n"));
  REQUIRE(resp.has_value());
  CHECK(resp->status == 200);
  CHECK(resp->curl_code == 0);
  CHECK(resp->body == R"({"Tables":[]})");
  CHECK(resp->headers["x-ms-activity-id"] == "act-1");
  CHECK(resp->duration.count() > 0);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].target == "/v1/rest/ingest/db/t?streamFormat=csv");
  CHECK(reqs[0].body == "a,b\n");
  CHECK(reqs[0].headers["x-test"] == "yes");
  CHECK(reqs[0].headers["content-type"] == "application/octet-stream");
  CHECK(reqs[0].headers["content-length"] == "4");
  CHECK(reqs[0].headers.count("expect") == 0);  // no 100-continue round trip
  CHECK(f.client->inFlight() == 0);
  CHECK(f.closeAll());
}

TEST_CASE("http client: 429 with Retry-After and 500 with a body") {
  std::atomic<int> n{0};
  FakeHttpServer server([&](const Request&) {
    Reply r;
    if (n++ == 0) {
      r.status = 429;
      r.headers = {{"Retry-After", "3"}};
    } else {
      r.status = 500;
      r.body = R"({"error":{"code":"General_InternalServerError","@permanent":false}})";
    }
    return r;
  });
  Fixture f;
  auto a = f.fetch(post(server.url() + "/x", "1"));
  REQUIRE(a.has_value());
  CHECK(a->status == 429);
  CHECK(a->headers["retry-after"] == "3");
  auto b = f.fetch(post(server.url() + "/x", "2"));
  REQUIRE(b.has_value());
  CHECK(b->status == 500);
  CHECK(b->body.find("General_InternalServerError") != std::string::npos);
  CHECK(f.closeAll());
}

TEST_CASE("http client: a dropped connection is a transport error with status 0") {
  FakeHttpServer server([](const Request&) {
    Reply r;
    r.action = Reply::Action::kDropConnection;
    return r;
  });
  Fixture f;
  auto resp = f.fetch(post(server.url() + "/x", "body"));
  REQUIRE(resp.has_value());
  CHECK(resp->status == 0);
  CHECK(resp->curl_code != 0);
  CHECK_FALSE(resp->error.empty());
  CHECK(f.closeAll());
}

TEST_CASE("http client: connection refused is a transport error") {
  int port = 0;
  {
    FakeHttpServer server([](const Request&) { return Reply{}; });
    port = server.port();
  }  // closed: nothing listens there any more
  Fixture f;
  auto resp = f.fetch(post("http://127.0.0.1:" + std::to_string(port) + "/x", "b"));
  REQUIRE(resp.has_value());
  CHECK(resp->status == 0);
  CHECK(resp->curl_code == 7);  // CURLE_COULDNT_CONNECT
  CHECK(f.closeAll());
}

TEST_CASE("http client: a slow answer times out") {
  FakeHttpServer server([](const Request&) {
    Reply r;
    r.delay = 3s;
    return r;
  });
  Fixture f;
  auto req = post(server.url() + "/slow", "b");
  req.timeout = 200ms;
  auto start = std::chrono::steady_clock::now();
  auto resp = f.fetch(std::move(req));
  REQUIRE(resp.has_value());
  CHECK(resp->status == 0);
  CHECK(resp->curl_code == 28);  // CURLE_OPERATION_TIMEDOUT
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(f.closeAll());
  server.stop();
}

TEST_CASE("http client: keep-alive connections are reused") {
  FakeHttpServer server([](const Request&) { return Reply{}; });
  Fixture f;
  for (int i = 0; i < 10; ++i) {
    auto resp = f.fetch(post(server.url() + "/x", "payload " + std::to_string(i)));
    REQUIRE(resp.has_value());
    CHECK(resp->status == 200);
    if (i > 0) {
      CHECK(resp->reused_connection);
    }
  }
  CHECK(server.connectionsAccepted() == 1);
  CHECK(f.client->connectionsOpenedForTest() == 1);
  CHECK(f.closeAll());
}

TEST_CASE("http client: many concurrent requests, at most max_connections_per_host sockets") {
  FakeHttpServer server([](const Request&) {
    Reply r;
    r.delay = 20ms;
    return r;
  });
  ingestd::HttpClientOptions opts;
  opts.max_connections_per_host = 4;
  Fixture f(opts);
  constexpr int kRequests = 40;
  int done = 0;
  int ok = 0;
  for (int i = 0; i < kRequests; ++i) {
    f.client->start(post(server.url() + "/x", std::string(1000, 'a' + (i % 26))),
                    [&](const ingestd::HttpResponse& r) {
                      ++done;
                      ok += r.status == 200 ? 1 : 0;
                    });
  }
  CHECK(f.client->inFlight() == kRequests);
  REQUIRE(runUntil(
      f.loop, [&] { return done == kRequests; }, 20s));
  CHECK(ok == kRequests);
  CHECK(server.requestCount() == kRequests);
  CHECK(server.connectionsAccepted() <= 4);
  CHECK(server.maxConcurrent() > 1);
  CHECK(f.closeAll());
}

TEST_CASE("http client: cancel, and close with requests in flight, call no completion") {
  FakeHttpServer server([](const Request&) {
    Reply r;
    r.delay = 2s;
    return r;
  });
  Fixture f;
  int completions = 0;
  auto a = f.client->start(post(server.url() + "/a", "a"),
                           [&](const ingestd::HttpResponse&) { ++completions; });
  f.client->start(post(server.url() + "/b", "b"),
                  [&](const ingestd::HttpResponse&) { ++completions; });
  REQUIRE(runUntil(
      f.loop, [&] { return server.requestCount() == 2; }, 5s));
  f.client->cancel(a);
  f.client->cancel(a);      // twice: ignored
  f.client->cancel(12345);  // unknown: ignored
  CHECK(f.client->inFlight() == 1);
  CHECK(f.closeAll());  // closes with /b in flight
  CHECK(completions == 0);
  server.stop();
}

TEST_CASE("http client: start after close fails asynchronously") {
  Fixture f;
  bool closed = false;
  f.client->close([&] { closed = true; });
  REQUIRE(runUntil(
      f.loop, [&] { return closed; }, 5s));
  std::optional<ingestd::HttpResponse> resp;
  f.client->start(post("http://127.0.0.1:1/x", "b"),
                  [&](ingestd::HttpResponse r) { resp = std::move(r); });
  CHECK_FALSE(resp.has_value());  // never inside start()
  REQUIRE(runUntil(
      f.loop, [&] { return resp.has_value(); }, 5s));
  CHECK(resp->status == 0);
  CHECK(resp->curl_code != 0);
  f.client.reset();
  CHECK(f.loop.shutdown() == 0);
}

TEST_CASE("http client: a gzip-encoded answer is decoded when asked for") {
  FakeHttpServer server([](const Request& req) {
    Reply r;
    r.body = ingestd::test::gzipCompress(R"({"error":{"code":"X"}})");
    r.headers = {{"Content-Encoding", "gzip"}};
    r.status = req.headers.count("accept-encoding") != 0 ? 400 : 500;
    return r;
  });
  Fixture f;
  auto req = post(server.url() + "/x", "b");
  req.accept_encoding = "gzip,deflate";
  auto resp = f.fetch(std::move(req));
  REQUIRE(resp.has_value());
  CHECK(resp->status == 400);
  CHECK(resp->body == R"({"error":{"code":"X"}})");
  CHECK(server.requests().at(0).headers["accept-encoding"] == "gzip,deflate");
  CHECK(f.closeAll());
}

TEST_CASE("http client: GET without a body, and a completion that starts the next request") {
  FakeHttpServer server([](const Request& req) {
    Reply r;
    r.body = req.method + " " + req.target;
    return r;
  });
  Fixture f;
  std::vector<std::string> bodies;
  std::function<void(int)> next = [&](int i) {
    ingestd::HttpRequest g;
    g.method = "GET";
    g.url = server.url() + "/get/" + std::to_string(i);
    f.client->start(std::move(g), [&, i](const ingestd::HttpResponse& r) {
      bodies.push_back(r.body);
      if (i < 3) {
        next(i + 1);
      }
    });
  };
  next(0);
  REQUIRE(runUntil(
      f.loop, [&] { return bodies.size() == 4; }, 10s));
  CHECK(bodies[0] == "GET /get/0");
  CHECK(bodies[3] == "GET /get/3");
  CHECK(server.requests()[0].headers.count("content-length") == 0);
  CHECK(f.closeAll());
}
