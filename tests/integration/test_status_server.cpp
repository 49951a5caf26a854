// Integration tests of the status server on a real loop with raw loopback sockets: methods and
// paths, bare-LF heads, keep-alive and pipelining, header and idle timeouts, the connection cap,
// and close() with connections still open (issue 6, item 4).
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "agent/loop/loop.h"
#include "agent/metrics/metrics.h"
#include "agent/metrics/status_server.h"
#include "tests/support/loop_wait.h"
#include "tests/support/raw_socket.h"

namespace ingestd {
namespace {

using namespace std::chrono_literals;
using test::RawSocket;
using test::runLoopFor;
using test::runLoopUntil;

constexpr auto kWait = 5s;

// One server on 127.0.0.1:0 with its loop. The destructor closes the server before the loop
// goes away, even when a REQUIRE has failed.
struct Fixture {
  explicit Fixture(StatusServerOptions options = {}) {
    Loop::markLoopThread();
    server = std::make_unique<StatusServer>(loop, metrics, options, [this] { return readiness; });
    REQUIRE(server->listen("127.0.0.1:0").isOk());
    REQUIRE(server->port() > 0);
  }
  ~Fixture() { (void)closeServer(); }

  bool closeServer() {
    if (done_calls > 0) {
      return true;
    }
    if (!close_called) {
      close_called = true;
      server->close([this] { ++done_calls; });
    }
    return runLoopUntil(
        loop, [this] { return done_calls > 0; }, kWait);
  }
  // Closes the server and the loop; 0 when no handle was left open.
  int shutdown() {
    REQUIRE(closeServer());
    return loop.shutdown();
  }

  // Runs the loop until `s` has received `needle` `times` times.
  bool waitFor(RawSocket& s, std::string_view needle, int times = 1) {
    return runLoopUntil(
        loop, [&] { return s.has(needle, times); }, kWait);
  }
  bool waitClosed(RawSocket& s, std::chrono::milliseconds timeout = kWait) {
    return runLoopUntil(
        loop, [&] { return s.closedByPeer(); }, timeout);
  }
  bool waitConnections(std::size_t n) {
    return runLoopUntil(
        loop, [&] { return server->connectionsForTest() == n; }, kWait);
  }
  // Sends one request and waits for one complete response (head and Content-Length body).
  std::string roundTrip(RawSocket& s, std::string_view request);

  Loop loop;
  Metrics metrics;
  Readiness readiness{true, ""};
  std::unique_ptr<StatusServer> server;
  bool close_called = false;
  int done_calls = 0;
};

// The length of the first complete response at the start of `text` (head plus Content-Length
// bytes of body, or only the head when `head_only`), 0 while incomplete.
std::size_t responseLength(std::string_view text, bool head_only = false) {
  auto end = text.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return 0;
  }
  end += 4;
  if (head_only) {
    return end;
  }
  auto cl = text.substr(0, end).find("Content-Length: ");
  if (cl == std::string_view::npos) {
    return 0;
  }
  std::size_t length = std::stoul(std::string(text.substr(cl + 16, end - cl - 16)));
  return text.size() >= end + length ? end + length : 0;
}

std::string Fixture::roundTrip(RawSocket& s, std::string_view request) {
  s.clear();
  REQUIRE(s.send(request));
  REQUIRE(runLoopUntil(
      loop, [&] { return responseLength(s.pump()) > 0; }, kWait));
  return s.received();
}

std::string bodyOf(std::string_view response) {
  auto end = response.find("\r\n\r\n");
  return end == std::string_view::npos ? std::string() : std::string(response.substr(end + 4));
}

TEST_CASE("status server: GET /metrics, /healthz and /readyz, 503 with the reason when not ready") {
  Fixture f;
  RawSocket s(f.server->port());
  auto r = f.roundTrip(s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(bodyOf(r) == "ok\n");
  r = f.roundTrip(s, "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(r.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  CHECK(r.find("\ningestd_status_connections_rejected_total 0") != std::string::npos);
  CHECK(r.find("\nprocess_open_fds ") != std::string::npos);
  CHECK(r.find("\ningestd_build_info{") != std::string::npos);
  r = f.roundTrip(s, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(bodyOf(r) == "ready\n");
  f.readiness = Readiness{false, "output \"adx\" has no token yet"};
  r = f.roundTrip(s, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);
  CHECK(bodyOf(r) == "output \"adx\" has no token yet\n");
  CHECK(f.shutdown() == 0);
}

TEST_CASE("status server: HEAD answers the headers of GET, Content-Length included, no body") {
  Fixture f;
  RawSocket s(f.server->port());
  REQUIRE(s.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(f.waitFor(s, "\r\n\r\n"));
  const std::string head = s.received().substr(0, responseLength(s.received(), true));
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  auto cl = head.find("Content-Length: ");
  REQUIRE(cl != std::string::npos);
  CHECK(std::stoul(head.substr(cl + 16)) > 100);
  // The next response on the connection follows the head directly: no body bytes in between.
  REQUIRE(s.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(runLoopUntil(
      f.loop, [&] { return responseLength(s.pump().substr(head.size())) > 0; }, kWait));
  CHECK(s.received().substr(head.size()).rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(bodyOf(s.received().substr(head.size())) == "ok\n");
  CHECK(f.shutdown() == 0);
}

TEST_CASE("status server: other methods get 405 with Allow: GET, HEAD") {
  Fixture f;
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    CAPTURE(method);
    RawSocket s(f.server->port());
    auto r = f.roundTrip(s, std::string(method) + " /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(r.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0) == 0);
    CHECK(r.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
  }
  // A body we do not read: answered, then the connection is closed (not misread as a request).
  RawSocket s(f.server->port());
  auto r =
      f.roundTrip(s, "POST /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nGET / x\r\n");
  CHECK(r.rfind("HTTP/1.1 405 ", 0) == 0);
  CHECK(r.find("Connection: close\r\n") != std::string::npos);
  CHECK(f.waitClosed(s));
  CHECK(f.shutdown() == 0);
}

TEST_CASE("status server: unknown paths get 404, malformed request lines 400, big heads 431") {
  Fixture f;
  {
    RawSocket s(f.server->port());
    auto r = f.roundTrip(s, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(r.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
    r = f.roundTrip(s, "POST /metricsz HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(r.rfind("HTTP/1.1 404 ", 0) == 0);
  }
  for (const char* bad : {"GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
                          "GET /metrics HTTP/1.1 extra\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
                          "G(T /metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTX/1.1\r\n\r\n",
                          "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
                          "GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n"}) {
    CAPTURE(bad);
    RawSocket s(f.server->port());
    auto r = f.roundTrip(s, bad);
    CHECK(r.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
    CHECK(r.find("Connection: close\r\n") != std::string::npos);
    CHECK(f.waitClosed(s));
  }
  {
    RawSocket s(f.server->port());
    auto r = f.roundTrip(s, "GET /metrics HTTP/2.0\r\n\r\n");
    CHECK(r.rfind("HTTP/1.1 505 ", 0) == 0);
  }
  {  // A head that never ends within 16 KiB.
    RawSocket s(f.server->port());
    auto r = f.roundTrip(s, "GET /metrics HTTP/1.1\r\nX-Big: " +
                                std::string(std::size_t{17} * 1024, 'a'));
    CHECK(r.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
    CHECK(f.waitClosed(s));
  }
  {  // A complete head over 16 KiB.
    RawSocket s(f.server->port());
    auto r = f.roundTrip(s, "GET /metrics HTTP/1.1\r\nX-Big: " +
                                std::string(std::size_t{17} * 1024, 'a') + "\r\n\r\n");
    CHECK(r.rfind("HTTP/1.1 431 ", 0) == 0);
    CHECK(f.waitClosed(s));
  }
  CHECK(f.shutdown() == 0);
}

TEST_CASE("status server: bare LF line endings are accepted") {
  Fixture f;
  RawSocket s(f.server->port());
  auto r = f.roundTrip(s, "GET /healthz HTTP/1.1\nHost: x\n\n");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(bodyOf(r) == "ok\n");
  // Mixed, and a request sent a few bytes at a time.
  r = f.roundTrip(s, "GET /readyz HTTP/1.1\r\nHost: x\n\r\n");
  CHECK(bodyOf(r) == "ready\n");
  s.clear();
  for (std::string_view piece : {"GET /heal", "thz HTTP/1.1\n", "Host: x\n", "\n"}) {
    REQUIRE(s.send(piece));
    runLoopFor(f.loop, 20ms);
  }
  REQUIRE(runLoopUntil(
      f.loop, [&] { return responseLength(s.pump()) > 0; }, kWait));
  CHECK(bodyOf(s.received()) == "ok\n");
  CHECK(f.shutdown() == 0);
}

TEST_CASE(
    "status server: keep-alive serves two requests on one connection, Connection: close ends it") {
  Fixture f;
  RawSocket s(f.server->port());
  auto r = f.roundTrip(s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(r.find("Connection: keep-alive\r\n") != std::string::npos);
  r = f.roundTrip(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK_FALSE(s.closedByPeer());
  CHECK(f.server->connectionsForTest() == 1);
  r = f.roundTrip(s, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(r.find("Connection: close\r\n") != std::string::npos);
  CHECK(f.waitClosed(s));
  s.close();  // the server waits for our close (lingering) before it lets go of the socket
  CHECK(f.waitConnections(0));

  // HTTP/1.0 closes unless it asks for keep-alive.
  RawSocket old(f.server->port());
  r = f.roundTrip(old, "GET /healthz HTTP/1.0\r\n\r\n");
  CHECK(r.find("Connection: close\r\n") != std::string::npos);
  CHECK(f.waitClosed(old));
  RawSocket old_ka(f.server->port());
  r = f.roundTrip(old_ka, "GET /healthz HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  CHECK(r.find("Connection: keep-alive\r\n") != std::string::npos);
  r = f.roundTrip(old_ka, "GET /readyz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  CHECK(bodyOf(r) == "ready\n");
  CHECK(f.shutdown() == 0);
}

TEST_CASE("status server: pipelined requests are answered in order") {
  Fixture f;
  RawSocket s(f.server->port());
  REQUIRE(
      s.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
             "\r\n"  // a stray CRLF between requests is allowed
             "HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /nope HTTP/1.1\nHost: x\n\n"
             "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
             "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));  // after close: ignored
  REQUIRE(f.waitClosed(s));
  const std::string& all = s.received();
  std::string_view rest = all;
  auto next = [&](bool head_only) {
    auto n = responseLength(rest, head_only);
    REQUIRE(n > 0);
    std::string one(rest.substr(0, n));
    rest.remove_prefix(n);
    return one;
  };
  auto r1 = next(false);
  CHECK(r1.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(bodyOf(r1) == "ok\n");
  auto r2 = next(true);
  CHECK(r2.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(r2.find("Content-Length: 6\r\n") != std::string::npos);
  auto r3 = next(false);
  CHECK(r3.rfind("HTTP/1.1 404 ", 0) == 0);
  auto r4 = next(false);
  CHECK(bodyOf(r4) == "ready\n");
  CHECK(r4.find("Connection: close\r\n") != std::string::npos);
  CHECK(rest.empty());
  CHECK(f.shutdown() == 0);
}

TEST_CASE("status server: a connection that does not finish its head in time is closed") {
  StatusServerOptions options;
  options.header_timeout = 200ms;
  Fixture f(options);
  RawSocket silent(f.server->port());
  RawSocket partial(f.server->port());
  REQUIRE(partial.send("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
  REQUIRE(f.waitConnections(2));
  CHECK(f.waitClosed(silent));
  CHECK(f.waitClosed(partial));
  CHECK(partial.received().empty());
  CHECK(f.waitConnections(0));
  // Trickling bytes does not extend the deadline.
  RawSocket slow(f.server->port());
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200 && !slow.closedByPeer(); ++i) {
    (void)slow.send("X");
    runLoopFor(f.loop, 20ms);
  }
  CHECK(slow.closedByPeer());
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  // Others are still served.
  RawSocket s(f.server->port());
  CHECK(bodyOf(f.roundTrip(s, "GET /healthz HTTP/1.1\r\n\r\n")) == "ok\n");
  CHECK(f.shutdown() == 0);
}

TEST_CASE("status server: an idle keep-alive connection is closed after the idle timeout") {
  StatusServerOptions options;
  options.idle_timeout = 200ms;
  Fixture f(options);
  RawSocket s(f.server->port());
  CHECK(bodyOf(f.roundTrip(s, "GET /healthz HTTP/1.1\r\n\r\n")) == "ok\n");
  CHECK(f.waitClosed(s));
  CHECK(f.waitConnections(0));
  CHECK(f.shutdown() == 0);
}

TEST_CASE("status server: connections beyond max_connections are closed at once and counted") {
  StatusServerOptions options;
  options.max_connections = 3;
  Fixture f(options);
  constexpr int kHeld = 3;  // as many as max_connections
  std::vector<std::unique_ptr<RawSocket>> held;
  held.reserve(kHeld);
  for (int i = 0; i < kHeld; ++i) {
    held.push_back(std::make_unique<RawSocket>(f.server->port()));
  }
  REQUIRE(f.waitConnections(3));
  RawSocket extra1(f.server->port());
  RawSocket extra2(f.server->port());
  CHECK(f.waitClosed(extra1));
  CHECK(f.waitClosed(extra2));
  CHECK(extra1.received().empty());
  CHECK(f.metrics.serialize().find("\ningestd_status_connections_rejected_total 2") !=
        std::string::npos);
  // The connections held are served; once one goes, a new one is accepted.
  CHECK(bodyOf(f.roundTrip(*held[0], "GET /healthz HTTP/1.1\r\n\r\n")) == "ok\n");
  held[1]->close();
  REQUIRE(f.waitConnections(2));
  RawSocket later(f.server->port());
  auto r = f.roundTrip(later, "GET /metrics HTTP/1.1\r\n\r\n");
  CHECK(r.find("\ningestd_status_connections_rejected_total 2") != std::string::npos);
  CHECK(f.shutdown() == 0);
}

TEST_CASE("status server: close() with idle, half-sent and keep-alive connections completes") {
  Fixture f;
  constexpr int kSilent = 5;
  std::vector<std::unique_ptr<RawSocket>> silent;
  silent.reserve(kSilent);
  for (int i = 0; i < kSilent; ++i) {
    silent.push_back(std::make_unique<RawSocket>(f.server->port()));
  }
  RawSocket partial(f.server->port());
  REQUIRE(partial.send("GET /metrics HTTP/1.1\r\n"));
  RawSocket kept(f.server->port());
  CHECK(bodyOf(f.roundTrip(kept, "GET /healthz HTTP/1.1\r\n\r\n")) == "ok\n");
  REQUIRE(f.waitConnections(7));

  f.close_called = true;
  f.server->close([&] { ++f.done_calls; });
  CHECK(runLoopUntil(
      f.loop, [&] { return f.done_calls > 0; }, kWait));
  CHECK(f.done_calls == 1);
  CHECK(f.server->connectionsForTest() == 0);
  for (auto& s : silent) {
    CHECK(s->closedByPeer());
  }
  CHECK(partial.closedByPeer());
  CHECK(kept.closedByPeer());
  CHECK(f.loop.shutdown() == 0);
  // The port is no longer served.
  CHECK_THROWS(RawSocket(f.server->port()));
}

TEST_CASE("status server: close() before listen() and with nothing open calls done at once") {
  Loop::markLoopThread();
  Loop loop;
  Metrics metrics;
  StatusServer server(loop, metrics, [] { return Readiness{true, ""}; });
  int done = 0;
  server.close([&] { ++done; });
  CHECK(done == 1);
  server.close([&] { done += 10; });  // a second close() is harmless
  CHECK(done == 11);
  CHECK(loop.shutdown() == 0);
}

}  // namespace
}  // namespace ingestd
