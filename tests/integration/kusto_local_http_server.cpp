// Integration tests of kusto-local's HTTP server in-process, over loopback sockets with a tiny
// handler: keep-alive and pipelining, requests split byte by byte, 100-continue, dropped
// connections, the 10 MiB cap with a readable 413, and stop() with connections still open.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "tests/support/wait_for.h"
#include "tools/kusto-local/http_server.h"

using namespace std::chrono_literals;
using ingestd::test::waitFor;
using kusto_local::HttpRequest;
using kusto_local::HttpResponse;
using kusto_local::HttpServer;

namespace {

// Echoes method, path and body; "/drop" closes without answering.
class EchoHandler : public kusto_local::HttpHandler {
 public:
  std::atomic<int> requests{0};

  void handle(HttpRequest& request, HttpResponse& response) override {
    ++requests;
    if (request.path == "/drop") {
      response.drop = true;
      return;
    }
    response.setHeader("Content-Type", "text/plain");
    response.body = request.method + " " + request.path + " " + request.body;
  }
  void handleParseError(int status, const std::string& message, const HttpRequest&,
                        HttpResponse& response) override {
    response.status = status;
    response.body = message;
  }
};

// A blocking loopback client with a receive deadline, so a broken server fails the test
// instead of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Reads until `count` occurrences of `marker` arrived, EOF, or the deadline.
  std::string readUntil(std::string_view marker, int count = 1) {
    while (occurrences(marker) < count) {
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      got_.append(buf, static_cast<std::size_t>(n));
    }
    return got_;
  }
  // True when the server closed the connection (EOF) within the deadline.
  bool closedByPeer() {
    char buf[4096];
    while (true) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) {
        return true;
      }
      if (n < 0) {
        return errno == ECONNRESET;
      }
      got_.append(buf, static_cast<std::size_t>(n));
    }
  }
  const std::string& received() const { return got_; }

 private:
  int occurrences(std::string_view marker) const {
    int n = 0;
    for (std::size_t pos = got_.find(marker); pos != std::string::npos;
         pos = got_.find(marker, pos + 1)) {
      ++n;
    }
    return n;
  }
  int fd_ = -1;
  std::string got_;
};

struct Running {
  EchoHandler handler;
  HttpServer server{handler};
  Running() {
    REQUIRE(server.listen("127.0.0.1", 0).empty());
    server.start();
  }
};

}  // namespace

TEST_CASE("kusto-local http server: keep-alive, pipelining and byte-by-byte requests") {
  Running r;
  REQUIRE(r.server.port() != 0);
  Client c(r.server.port());
  REQUIRE(
      c.send("POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
             "GET /b HTTP/1.1\r\n\r\n"));
  std::string got = c.readUntil("HTTP/1.1 200 OK", 2);
  got = c.readUntil("GET /b ");
  CHECK(got.find("POST /a abc") != std::string::npos);
  CHECK(got.find("GET /b ") != std::string::npos);
  for (char ch : std::string("PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "2\r\nxy\r\n0\r\n\r\n")) {
    REQUIRE(c.send(std::string(1, ch)));
  }
  CHECK(c.readUntil("PUT /c xy").find("PUT /c xy") != std::string::npos);
  CHECK(r.handler.requests == 3);
}

TEST_CASE("kusto-local http server: 100-continue, Connection: close and dropped connections") {
  Running r;
  {
    Client c(r.server.port());
    REQUIRE(c.send("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"));
    CHECK(c.readUntil("\r\n\r\n").rfind("HTTP/1.1 100 Continue\r\n\r\n", 0) == 0);
    REQUIRE(c.send("ok"));
    CHECK(c.readUntil("POST /x ok").find("POST /x ok") != std::string::npos);
  }
  {
    Client c(r.server.port());
    REQUIRE(c.send("GET /y HTTP/1.1\r\nConnection: close\r\n\r\n"));
    CHECK(c.closedByPeer());
    CHECK(c.received().find("Connection: close") != std::string::npos);
  }
  {
    Client c(r.server.port());
    REQUIRE(c.send("GET /drop HTTP/1.1\r\n\r\n"));
    CHECK(c.closedByPeer());
    CHECK(c.received().empty());
  }
}

TEST_CASE("kusto-local http server: a body over 10 MiB gets a readable 413") {
  Running r;
  Client c(r.server.port());
  // Chunked, so the server only finds out while reading; the client keeps sending.
  REQUIRE(c.send("POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "100000\r\n" + std::string(0x100000, 'a') + "\r\n";
  for (int i = 0; i < 11; ++i) {
    if (!c.send(chunk)) {
      break;  // the server may stop reading once it answered
    }
  }
  CHECK(c.readUntil("\r\n\r\n").rfind("HTTP/1.1 413", 0) == 0);
  CHECK(r.handler.requests == 0);
}

TEST_CASE("kusto-local http server: stop() closes idle keep-alive connections and joins") {
  Running r;
  Client a(r.server.port());
  Client b(r.server.port());
  REQUIRE(a.send("GET /1 HTTP/1.1\r\n\r\n"));
  REQUIRE(b.send("GET /2 HTTP/1.1\r\n\r\n"));
  a.readUntil("GET /1");
  b.readUntil("GET /2");
  CHECK(waitFor([&] { return r.server.openConnectionsForTest() == 2; }, 5s));
  const auto t0 = std::chrono::steady_clock::now();
  r.server.stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  CHECK(a.closedByPeer());
  CHECK(b.closedByPeer());
  r.server.stop();  // idempotent
}
