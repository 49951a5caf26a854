// kusto-local e2e: HTTP/1.1 edge cases on raw sockets (pipelining, chunk extensions and
// trailers, many idle connections), stopping with connections open, fault flags on the command
// line, and --data-dir durability across kill -9.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/e2e/kusto_local_test_util.h"
#include "tests/support/http_client.h"
#include "tests/support/kusto_local.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
using ingestd::test::httpRequest;
using ingestd::test::KustoLocal;
using ingestd::test::TempDir;
using namespace ingestd::test::kl;

namespace {

// A blocking TCP connection to 127.0.0.1:port, closed on destruction.
class RawConn {
 public:
  explicit RawConn(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~RawConn() { ::close(fd_); }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  void send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      REQUIRE(n > 0);
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // Reads until the peer closes, `until` appears `times` times, or the deadline passes.
  std::string read(std::chrono::milliseconds timeout, std::string_view until = {}, int times = 1) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (!until.empty() && occurrences(out, until) >= times) {
        return out;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return out;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return out;
      }
      char buf[16384];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        return out;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  static int occurrences(const std::string& text, std::string_view what) {
    int n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
      ++n;
    }
    return n;
  }

 private:
  int fd_;
};

std::string ingestHead(std::string_view extra) {
  return "POST /v1/rest/ingest/Db/T?streamFormat=csv HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         std::string(extra);
}

}  // namespace

TEST_CASE("kusto-local http: pipelined requests are answered in order on one connection") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  RawConn c(kl->port());
  std::string batch;
  for (int i = 0; i < 3; ++i) {
    const std::string body = csvRows("pipe" + std::to_string(i), 0, i + 1);
    batch += ingestHead("x-ms-client-request-id: pipe-" + std::to_string(i) +
                        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n") +
             body;
  }
  batch += "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  c.send(batch);
  const std::string out = c.read(10s);
  CHECK(RawConn::occurrences(out, "HTTP/1.1 200") == 4);
  const auto p0 = out.find("x-ms-client-request-id: pipe-0");
  const auto p1 = out.find("x-ms-client-request-id: pipe-1");
  const auto p2 = out.find("x-ms-client-request-id: pipe-2");
  REQUIRE(p0 != std::string::npos);
  REQUIRE(p1 != std::string::npos);
  REQUIRE(p2 != std::string::npos);
  CHECK(p0 < p1);
  CHECK(p1 < p2);
  CHECK(kl->count("Db", "T") == 1 + 2 + 3);
}

TEST_CASE("kusto-local http: chunk extensions, upper-case hex sizes and trailers") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  RawConn c(kl->port());
  const std::string a = "a,1,true\n";              // 9 bytes
  const std::string b = "bbbbbbbbbbbbb,2,true\n";  // 21 = 0x15 bytes
  c.send(ingestHead("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n") +
         "9;name=value\r\n" + a + "\r\n15\r\n" + b + "\r\n0\r\nX-Trailer: yes\r\n\r\n");
  const std::string out = c.read(10s);
  CHECK(out.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(kl->count("Db", "T") == 2);
  CHECK(kl->rows("Db", R"(T | where Name == "bbbbbbbbbbbbb" | project Value)") ==
        std::vector<json>{json::array({2})});
}

TEST_CASE("kusto-local http: malformed requests get 4xx and the server keeps serving") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  {
    RawConn c(kl->port());
    c.send(ingestHead("Content-Length: abc\r\n\r\n"));
    CHECK(c.read(5s).rfind("HTTP/1.1 400", 0) == 0);
  }
  {
    RawConn c(kl->port());
    c.send(ingestHead("Transfer-Encoding: chunked\r\n\r\nzz\r\n"));
    CHECK(c.read(5s).rfind("HTTP/1.1 400", 0) == 0);
  }
  {
    RawConn c(kl->port());
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " +
           std::string(std::size_t{256} * 1024, 'a') + "\r\n\r\n");
    CHECK(c.read(5s).rfind("HTTP/1.1 431", 0) == 0);
  }
  {
    RawConn c(kl->port());
    c.send("NOT-HTTP\r\n\r\n");
    const auto out = c.read(5s);
    CHECK(out.rfind("HTTP/1.1 4", 0) == 0);
  }
  {
    RawConn c(kl->port());
    c.send("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n");
    CHECK(c.read(5s).rfind("HTTP/1.1 505", 0) == 0);
  }
  {
    RawConn c(kl->port());
    c.send(ingestHead("Transfer-Encoding: gzip\r\n\r\n"));
    CHECK(c.read(5s).rfind("HTTP/1.1 501", 0) == 0);
  }
  CHECK(httpRequest("GET", kl->url() + "/healthz").status == 200);
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", "a,1,true\n")) == 1);
  // Query parameter names are matched case-insensitively, in any order.
  const auto r =
      httpRequest("POST", kl->url() + "/v1/rest/ingest/Db/T?MappingName=&StreamFormat=CSV",
                  "b,2,true\n");
  CHECK(consumedRecords(r) == 1);
  CHECK(kl->count("Db", "T") == 2);
}

TEST_CASE("kusto-local http: many idle connections do not block other clients") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  constexpr int kIdle = 200;
  std::vector<std::unique_ptr<RawConn>> idle;
  idle.reserve(kIdle);
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<RawConn>(kl->port()));
  }
  // One of them is half-way through a request.
  idle[0]->send(ingestHead("Content-Length: 100\r\n\r\nabc"));
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", csvRows("busy", 0, 5))) == 5);
  idle.clear();
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", csvRows("after", 0, 5))) == 5);
  CHECK(kl->count("Db", "T") == 10);
}

TEST_CASE("kusto-local: SIGTERM exits promptly with idle, half-sent and slow requests open") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  RawConn idle(kl->port());
  idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(idle.read(5s, "ok").find("200") != std::string::npos);
  RawConn half_head(kl->port());
  half_head.send("POST /v1/rest/ingest/Db/T?streamFormat=csv HTTP/1.1\r\nHost:");
  RawConn half_body(kl->port());
  half_body.send(ingestHead("Content-Length: 1000\r\n\r\na,1,true\n"));
  RawConn half_chunked(kl->port());
  half_chunked.send(ingestHead("Transfer-Encoding: chunked\r\n\r\n9\r\na,1,true\n\r\n"));
  // An injected 30 s latency holds a handler too.
  kl->setFaults({{"latency_ms", 30000}});
  RawConn slow(kl->port());
  slow.send(ingestHead("Content-Length: 9\r\n\r\na,1,true\n"));

  const auto t0 = std::chrono::steady_clock::now();
  CHECK(kl->stop(10s) == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  // Every connection is closed by the server.
  CHECK(idle.read(2s).find("HTTP/1.1") == std::string::npos);
}

TEST_CASE("kusto-local: fault flags on the command line") {
  auto kl = KustoLocal::start({"--database", "Db", "--fault-429", "1", "--fault-retry-after", "7",
                               "--fault-fail-table", "Db.Other"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  const auto r = kl->ingest("Db", "T", "csv", "a,1,true\n");
  CHECK(r.status == 429);
  CHECK(r.header("retry-after") == "7");
  CHECK(parseJson(r)["error"]["@permanent"] == false);
  const auto stats = kl->stats();
  INFO(stats.dump());
  CHECK(stats["faults_injected"]["throttle_429"] == 1);
  // Runtime settings replace the flags.
  kl->setFaults(json::object());
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", "a,1,true\n")) == 1);
}

TEST_CASE("kusto-local --data-dir: acknowledged rows survive kill -9") {
  TempDir dir;
  {
    auto kl = KustoLocal::start({"--data-dir", dir.path(), "--database", "Db"});
    kl->createTableWithStreaming("Db", "T", kSchema);
    for (int i = 0; i < 5; ++i) {
      CHECK(consumedRecords(kl->ingest("Db", "T", "csv", csvRows("k" + std::to_string(i), 0, 4))) ==
            4);
    }
    kl->process().signal(SIGKILL);
    CHECK(kl->process().wait(5s) == -SIGKILL);
  }
  auto kl = KustoLocal::start({"--data-dir", dir.path()});
  CHECK(kl->count("Db", "T") == 20);
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", "z,1,true\n")) == 1);
  CHECK(kl->count("Db", "T") == 21);
}
