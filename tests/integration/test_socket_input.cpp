// Integration tests of the socket inputs on a real loop and real loopback sockets: framing across
// reads, limits (max_connections, max_message_bytes, idle_timeout), a connection closed inside a
// frame, backpressure (pause stops reading; datagrams are counted as dropped), Unix sockets and
// clean stop with connections open.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "agent/core/clock.h"
#include "agent/core/log.h"
#include "agent/loop/loop.h"
#include "agent/loop/worker_pool.h"
#include "agent/metrics/metrics.h"
#include "agent/plugin/plugin.h"
#include "plugins/inputs/socket/socket_input.h"
#include "tests/support/loop_wait.h"
#include "tests/support/raw_socket.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tls_test.h"

namespace ingestd::inputs {
namespace {

using namespace std::chrono_literals;
using test::runLoopUntil;

// Decodes kFramed chunks into their records.
class FrameSink : public RecordSink {
 public:
  void push(RecordChunk chunk) override {
    std::string_view d = chunk.data;
    std::uint64_t n = 0;
    while (!d.empty()) {
      REQUIRE(d.size() >= 4);
      const auto* u = reinterpret_cast<const unsigned char*>(d.data());
      const std::uint32_t len =
          u[0] | (u[1] << 8) | (u[2] << 16) | (static_cast<std::uint32_t>(u[3]) << 24);
      REQUIRE(d.size() >= 4 + len);
      frames.emplace_back(d.substr(4, len));
      sources.push_back(chunk.source->source);
      d.remove_prefix(4 + len);
      ++n;
    }
    CHECK(n == chunk.records);
    CHECK(chunk.source->format == RecordFormat::kFramed);
    ++chunks;
  }
  std::vector<std::string> frames;
  std::vector<std::string> sources;
  int chunks = 0;
};

struct Harness {
  test::TempDir dir;
  Loop loop;
  WorkerPool pool{loop, 1};
  SystemClock clock;
  Logger log{LogLevel::kWarn};
  Metrics metrics;
  InputMetrics im = metrics.forInput("s");
  PluginContext ctx{"tcp/s", "s", loop, pool, clock, log, dir.path(), "host", &im, nullptr};
  FrameSink sink;
  std::unique_ptr<SocketInput> input;

  explicit Harness(const std::string& type, const std::string& yaml) {
    Loop::markLoopThread();
    std::string text = "name: s\ntype: " + type + "\n" + yaml;
    ConfigNode node(YAML::Load(text), std::make_shared<const std::string>("t.yaml"), "inputs[0]");
    auto s = parseSocketSettings(node, type);
    REQUIRE_MESSAGE(s.isOk(), s.error().message);
    std::shared_ptr<TlsServerContext> tls;
    if (s->tls) {
      auto loaded = TlsServerContext::create(*s->tls);
      REQUIRE_MESSAGE(loaded.isOk(), loaded.error().message);
      tls = loaded.value();
    }
    input = std::make_unique<SocketInput>(s.value(), ctx, tls);
    REQUIRE(input->start(sink).isOk());
  }
  ~Harness() {
    if (input) {
      bool stopped = false;
      input->stop([&] { stopped = true; });
      CHECK(runLoopUntil(
          loop, [&] { return stopped; }, 5s));
      input.reset();
    }
    CHECK(loop.shutdown() == 0);
  }
  bool until(const std::function<bool()>& cond, std::chrono::milliseconds t = 5s) {
    return runLoopUntil(loop, cond, t);
  }
  double event(const char* e) { return im.socketEvent(e).Value(); }
  double dropped(const char* r) { return im.dropped(r).Value(); }
};

// A UDP client socket that sends to 127.0.0.1:port.
void sendUdp(int port, std::string_view data) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) ==
        static_cast<ssize_t>(data.size()));
  ::close(fd);
}

sockaddr_un unixAddress(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  return a;
}

int connectUnix(const std::string& path, int type = SOCK_STREAM) {
  int fd = ::socket(AF_UNIX, type, 0);
  sockaddr_un a = unixAddress(path);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_CASE("socket tcp: newline frames split across writes arrive whole, with the peer as source") {
  Harness h("tcp", "listen: 127.0.0.1:0\n");
  REQUIRE(h.input->port() > 0);
  test::RawSocket c(h.input->port());
  REQUIRE(c.send("first li"));
  REQUIRE(h.until([&] { return h.input->connectionsForTest() == 1; }));
  REQUIRE(c.send("ne\r\nsecond\n\nthi"));
  REQUIRE(c.send("rd\n"));
  REQUIRE(h.until([&] { return h.sink.frames.size() == 3; }));
  CHECK(h.sink.frames == std::vector<std::string>{"first line", "second", "third"});
  CHECK(h.sink.sources[0].starts_with("127.0.0.1:"));
  CHECK(h.im.records->Value() == 3);
  CHECK(h.event("accepted") == 1);
  CHECK(h.im.connections().Value() == 1);
  c.close();
  REQUIRE(h.until([&] { return h.input->connectionsForTest() == 0; }));
  CHECK(h.im.connections().Value() == 0);
  CHECK(h.dropped("incomplete") == 0);
}

TEST_CASE("socket tcp: octet-counted frames may hold newlines, a cut frame at close is counted") {
  Harness h("tcp", "listen: 127.0.0.1:0\nframing: octet-counted\n");
  test::RawSocket c(h.input->port());
  REQUIRE(c.send("11 hello\nworld5 abcde"));
  REQUIRE(c.send("20 only ten"));
  REQUIRE(h.until([&] { return h.sink.frames.size() == 2; }));
  CHECK(h.sink.frames == std::vector<std::string>{"hello\nworld", "abcde"});
  c.close();
  REQUIRE(h.until([&] { return h.dropped("incomplete") == 1; }));
  CHECK(h.sink.frames.size() == 2);  // the cut frame is not passed off as a message
}

TEST_CASE("socket tcp: a message over max_message_bytes is truncated and counted") {
  Harness h("tcp", "listen: 127.0.0.1:0\nmax_message_bytes: 16\n");
  test::RawSocket c(h.input->port());
  REQUIRE(c.send(std::string(100, 'x') + "\nshort\n"));
  REQUIRE(h.until([&] { return h.sink.frames.size() == 2; }));
  CHECK(h.sink.frames[0] == std::string(16, 'x'));
  CHECK(h.sink.frames[1] == "short");
  CHECK(h.dropped("truncated") == 1);
}

TEST_CASE("socket tcp: connections beyond max_connections are refused, the others keep working") {
  Harness h("tcp", "listen: 127.0.0.1:0\nmax_connections: 2\n");
  test::RawSocket a(h.input->port());
  test::RawSocket b(h.input->port());
  REQUIRE(h.until([&] { return h.input->connectionsForTest() == 2; }));
  std::vector<std::unique_ptr<test::RawSocket>> extra;
  for (int i = 0; i < 5; ++i) {
    extra.push_back(std::make_unique<test::RawSocket>(h.input->port()));
  }
  REQUIRE(h.until([&] { return h.event("refused") == 5; }));
  for (auto& e : extra) {
    CHECK(h.until([&] { return e->closedByPeer(); }));
  }
  REQUIRE(a.send("from a\n"));
  REQUIRE(h.until([&] { return h.sink.frames.size() == 1; }));
  CHECK(h.sink.frames[0] == "from a");
  CHECK(h.input->connectionsForTest() == 2);
}

TEST_CASE("socket tcp: an idle connection is closed after idle_timeout and counted") {
  Harness h("tcp", "listen: 127.0.0.1:0\nidle_timeout: 200ms\n");
  test::RawSocket c(h.input->port());
  REQUIRE(c.send("half a li"));
  REQUIRE(h.until([&] { return h.input->connectionsForTest() == 1; }));
  REQUIRE(h.until([&] { return c.closedByPeer(); }, 5s));
  CHECK(h.event("idle_closed") == 1);
  CHECK(h.dropped("incomplete") == 1);
  CHECK(h.sink.frames.empty());
}

TEST_CASE(
    "socket tcp: pause stops reading (the sender fills the kernel buffers), resume delivers all") {
  Harness h("tcp", "listen: 127.0.0.1:0\n");
  test::RawSocket c(h.input->port());
  REQUIRE(h.until([&] { return h.input->connectionsForTest() == 1; }));
  h.input->pause();
  // Write without the loop running until the kernel takes no more: backpressure.
  const std::string line = std::string(200, 'y') + "\n";
  std::size_t sent = 0;
  while (c.send(line)) {
    ++sent;
    if (sent > 200000) {
      break;
    }
  }
  REQUIRE(sent < 200000);  // the kernel buffers filled: the sender was held back
  test::runLoopFor(h.loop, 300ms);
  const std::size_t while_paused = h.sink.frames.size();
  CHECK(while_paused < sent);
  h.input->resume();
  REQUIRE(h.until([&] { return h.sink.frames.size() == sent; }, 10s));
  CHECK(h.dropped("truncated") == 0);
}

TEST_CASE(
    "socket tcp tls: lines over TLS arrive whole, plain text and clients without a trusted "
    "certificate are refused and counted while a good client is served") {
  test::TempDir pki;
  const test::TestCertFiles certs = test::makeTestCerts(pki.path());
  Harness h("tcp", "listen: 127.0.0.1:0\nframing: octet-counted\ntls: {cert_file: " +
                       certs.server_cert + ", key_file: " + certs.server_key +
                       ", ca_file: " + certs.ca + ", client_auth: required}\n");
  const int port = h.input->port();
  std::string payload;
  for (int i = 0; i < 3000; ++i) {
    const std::string msg = "<13>1 - host app - - - seq=" + std::to_string(i) + " over tls";
    payload += std::to_string(msg.size()) + " " + msg;
  }
  // Blocking clients run on threads; the loop runs here.
  bool good_ok = false;
  std::string good_error;
  bool plain_closed = false;
  bool anonymous_rejected = false;
  bool rogue_rejected = false;
  std::atomic<int> finished{0};
  std::thread good([&] {
    test::TlsTestClient c(port,
                          test::newClientContext(certs.ca, certs.client_cert, certs.client_key));
    good_ok = c.connected() && c.send(payload.substr(0, payload.size() / 2));
    // A second client's failures happen while this one is open.
    std::this_thread::sleep_for(50ms);
    good_ok = good_ok && c.send(payload.substr(payload.size() / 2)) && c.closeAndWait();
    good_error = c.error();
    ++finished;
  });
  std::thread bad([&] {
    test::RawSocket plain(port);
    plain_closed = plain.send("<13>1 - host app - - - not tls\n");
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (plain_closed && !plain.closedByPeer() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
    plain_closed = plain_closed && plain.peerClosed();
    test::TlsTestClient anonymous(port, test::newClientContext(certs.ca));
    anonymous_rejected = !anonymous.connected() || anonymous.rejectedByServer();
    test::TlsTestClient rogue(port,
                              test::newClientContext(certs.ca, certs.rogue_cert, certs.rogue_key));
    rogue_rejected = !rogue.connected() || rogue.rejectedByServer();
    ++finished;
  });
  // The loop runs until both clients are done: they wait for the server.
  const bool all = h.until([&] { return finished == 2; }, 30s);
  good.join();
  bad.join();
  CHECK_MESSAGE(good_ok, good_error);
  REQUIRE(all);
  CHECK(h.sink.frames.size() == 3000);
  CHECK(h.sink.frames[0] == "<13>1 - host app - - - seq=0 over tls");
  CHECK(h.sink.frames[2999] == "<13>1 - host app - - - seq=2999 over tls");
  CHECK(plain_closed);
  CHECK(anonymous_rejected);
  CHECK(rogue_rejected);
  CHECK(h.event("tls_failed") == 3);
  CHECK(h.event("accepted") == 4);
  CHECK(h.until([&] { return h.input->connectionsForTest() == 0; }));
  CHECK(h.dropped("incomplete") == 0);
}

TEST_CASE("socket tls config: only for tcp, and the certificate must load") {
  test::TempDir pki;
  const test::TestCertFiles certs = test::makeTestCerts(pki.path());
  auto settings = [](const std::string& type, const std::string& yaml) {
    ConfigNode node(YAML::Load("name: s\ntype: " + type + "\n" + yaml),
                    std::make_shared<const std::string>("t.yaml"), "inputs[0]");
    return parseSocketSettings(node, type);
  };
  auto udp = settings("udp", "listen: 127.0.0.1:0\ntls: {cert_file: /c.pem}\n");
  REQUIRE_FALSE(udp.isOk());
  CHECK(udp.error().message.find("TLS needs a stream protocol") != std::string::npos);
  auto unix_tls = settings("unix", "path: /tmp/x.sock\ntls: {cert_file: /c.pem}\n");
  REQUIRE_FALSE(unix_tls.isOk());
  CHECK(unix_tls.error().message.find("TLS is for tcp listeners") != std::string::npos);
  auto syslog =
      settings("syslog",
               "protocol: tcp\nlisten: 127.0.0.1:0\ntls: {cert_file: " + certs.server_pem + "}\n");
  REQUIRE(syslog.isOk());
  REQUIRE(syslog->tls.has_value());
  CHECK(describeSocketSettings(*syslog).find("tls:         TLS 1.2+, certificate") !=
        std::string::npos);

  // validate(): the files exist and make a working server; errors are located.
  const std::string yaml =
      "name: s\ntype: tcp\nlisten: 127.0.0.1:0\ntls:\n  cert_file: " + certs.server_cert +
      "\n  key_file: " + certs.client_key + "\n";
  ConfigNode node(YAML::Load(yaml), std::make_shared<const std::string>("t.yaml"), "inputs[0]");
  auto s = parseSocketSettings(node, "tcp");
  REQUIRE(s.isOk());
  ValidationReport report;
  Status st = validateSocketSettings(node, *s, report);
  REQUIRE_FALSE(st.isOk());
  CHECK(st.message().find("t.yaml:6:") != std::string::npos);
  CHECK(st.message().find("tls.key_file") != std::string::npos);
  CHECK(st.message().find("does not belong to the certificate") != std::string::npos);

  const std::string missing =
      "name: s\ntype: tcp\nlisten: 127.0.0.1:0\ntls:\n  cert_file: " + pki.path() + "/none.pem\n";
  ConfigNode node2(YAML::Load(missing), std::make_shared<const std::string>("t.yaml"), "inputs[0]");
  auto s2 = parseSocketSettings(node2, "tcp");
  REQUIRE(s2.isOk());
  Status st2 = validateSocketSettings(node2, *s2, report);
  REQUIRE_FALSE(st2.isOk());
  CHECK(st2.message().find("tls.cert_file") != std::string::npos);
  CHECK(st2.message().find("does not exist") != std::string::npos);
}

// True when this machine has IPv6 loopback (some containers do not).
bool haveIpv6Loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (fd >= 0) {
    ::close(fd);
  }
  return ok;
}

// A connected or bound-to-send socket to [::1]:port.
int ipv6Client(int type, int port) {
  const int fd = ::socket(AF_INET6, type | SOCK_CLOEXEC, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(static_cast<std::uint16_t>(port));
  a.sin6_addr = in6addr_loopback;
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return -1;
  }
  return fd;
}

TEST_CASE("socket tcp and udp over IPv6: [::1] listeners, the peer as [::1]:port") {
  if (!haveIpv6Loopback()) {
    test::skipTest("no IPv6 loopback on this machine");
    return;
  }
  {
    Harness h("tcp", "listen: \"[::1]:0\"\n");
    REQUIRE(h.input->port() > 0);
    const int fd = ipv6Client(SOCK_STREAM, h.input->port());
    REQUIRE(fd >= 0);
    const std::string lines = "over ipv6\nsecond\n";
    CHECK(::send(fd, lines.data(), lines.size(), 0) == static_cast<ssize_t>(lines.size()));
    REQUIRE(h.until([&] { return h.sink.frames.size() == 2; }));
    CHECK(h.sink.frames[0] == "over ipv6");
    CHECK(h.sink.sources[0].starts_with("[::1]:"));
    ::close(fd);
  }
  {
    Harness h("udp", "listen: \"[::1]:0\"\n");
    REQUIRE(h.input->port() > 0);
    const int fd = ipv6Client(SOCK_DGRAM, h.input->port());
    REQUIRE(fd >= 0);
    const std::string d = "<13>a datagram over ipv6";
    CHECK(::send(fd, d.data(), d.size(), 0) == static_cast<ssize_t>(d.size()));
    REQUIRE(h.until([&] { return h.sink.frames.size() == 1; }));
    CHECK(h.sink.frames[0] == d);
    CHECK(h.sink.sources[0].starts_with("[::1]:"));
    ::close(fd);
  }
}

TEST_CASE("socket udp: each datagram is one message, while paused they are dropped and counted") {
  Harness h("udp", "listen: 127.0.0.1:0\n");
  REQUIRE(h.input->port() > 0);
  sendUdp(h.input->port(), "<13>one\n");
  sendUdp(h.input->port(), "two\nlines");
  sendUdp(h.input->port(), "");
  REQUIRE(h.until([&] { return h.sink.frames.size() == 2; }));
  // Two client sockets, two peers: order is kept per peer, not across them.
  auto got = h.sink.frames;
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::string>{"<13>one", "two\nlines"});
  h.input->pause();
  sendUdp(h.input->port(), "lost");
  REQUIRE(h.until([&] { return h.dropped("buffer_full") == 1; }));
  h.input->resume();
  sendUdp(h.input->port(), "three");
  REQUIRE(h.until([&] { return h.sink.frames.size() == 3; }));
  CHECK(h.sink.frames[2] == "three");
}

TEST_CASE("socket udp: datagrams the kernel drops for a full receive queue are counted") {
  Harness h("udp", "listen: 127.0.0.1:0\nreceive_buffer: 16KiB\n");
  REQUIRE(h.input->port() > 0);
  // The loop does not run while we send: the socket's queue fills and the kernel drops the rest.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(h.input->port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string msg(500, 'x');
  const double sent = 2000;
  for (int i = 0; i < static_cast<int>(sent); ++i) {
    REQUIRE(::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) ==
            static_cast<ssize_t>(msg.size()));
  }
  ::close(fd);
  // Every datagram is either received or counted as dropped by the kernel (sampled every 2 s).
  h.until(
      [&] {
        return static_cast<double>(h.sink.frames.size()) + h.dropped("receive_queue_full") >= sent;
      },
      10s);
  INFO("received " << h.sink.frames.size() << ", kernel drops " << h.dropped("receive_queue_full"));
  CHECK(h.dropped("receive_queue_full") > 0);
  CHECK(static_cast<double>(h.sink.frames.size()) + h.dropped("receive_queue_full") == sent);
  CHECK(h.dropped("buffer_full") == 0);
}

TEST_CASE("socket unixgram: datagrams from unbound senders, backpressure holds them, none lost") {
  test::TempDir d;
  const std::string path = d.file("log.sock");
  // A stale socket file from an earlier run is replaced.
  {
    int stale = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un a = unixAddress(path);
    REQUIRE(::bind(stale, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    ::close(stale);
  }
  auto h = std::make_unique<Harness>("unixgram", "path: " + path + "\n");
  int fd = connectUnix(path, SOCK_DGRAM);
  REQUIRE(fd >= 0);
  REQUIRE(::send(fd, "<13>one\n", 8, 0) == 8);
  REQUIRE(::send(fd, "two", 3, 0) == 3);
  REQUIRE(h->until([&] { return h->sink.frames.size() == 2; }));
  CHECK(h->sink.frames == std::vector<std::string>{"<13>one", "two"});
  CHECK(h->sink.sources[0] == path);
  // Paused: the input stops reading, the queue fills and the sender is held back (EAGAIN for a
  // non-blocking one) instead of anything being dropped.
  h->input->pause();
  test::runLoopFor(h->loop, 50ms);
  int sent = 0;
  const std::string msg(200, 'm');
  while (sent < 100000 && ::send(fd, msg.data(), msg.size(), MSG_DONTWAIT) > 0) {
    ++sent;
  }
  CHECK(errno == EAGAIN);
  CHECK(sent > 0);
  CHECK(sent < 100000);
  test::runLoopFor(h->loop, 100ms);
  CHECK(h->sink.frames.size() == 2);
  h->input->resume();
  REQUIRE(h->until([&] { return h->sink.frames.size() == static_cast<std::size_t>(2 + sent); }));
  CHECK(h->dropped("buffer_full") == 0);
  ::close(fd);
  h.reset();
  CHECK_FALSE(std::filesystem::exists(path));  // removed at stop
}

TEST_CASE("socket unix: a stale socket file is replaced, the path is the source, removed at stop") {
  test::TempDir dir;
  const std::string path = dir.file("in.sock");
  {
    // A socket file left behind by a process that is gone.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    ::close(fd);
  }
  {
    Harness h("unix", "path: " + path + "\n");
    int fd = connectUnix(path);
    REQUIRE(fd >= 0);
    const std::string msg = "over unix\n";
    REQUIRE(::write(fd, msg.data(), msg.size()) == static_cast<ssize_t>(msg.size()));
    REQUIRE(h.until([&] { return h.sink.frames.size() == 1; }));
    CHECK(h.sink.frames[0] == "over unix");
    CHECK(h.sink.sources[0] == path);
    ::close(fd);
  }
  struct stat st {};
  CHECK(::lstat(path.c_str(), &st) != 0);
}

TEST_CASE("socket: a port in use is a start error naming the address") {
  Harness first("tcp", "listen: 127.0.0.1:0\n");
  const int port = first.input->port();
  Loop::markLoopThread();
  std::string text = "name: s2\ntype: tcp\nlisten: 127.0.0.1:" + std::to_string(port) + "\n";
  ConfigNode node(YAML::Load(text), std::make_shared<const std::string>("t.yaml"), "inputs[1]");
  auto s = parseSocketSettings(node, "tcp");
  REQUIRE(s.isOk());
  SocketInput second(s.value(), first.ctx);
  FrameSink sink;
  auto st = second.start(sink);
  REQUIRE_FALSE(st.isOk());
  CHECK(st.message().find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  bool stopped = false;
  second.stop([&] { stopped = true; });
  CHECK(first.until([&] { return stopped; }));
}

TEST_CASE("socket config: errors name the key") {
  auto err = [](const std::string& type, const std::string& yaml) {
    std::string text = "name: s\ntype: " + type + "\n" + yaml;
    ConfigNode node(YAML::Load(text), std::make_shared<const std::string>("t.yaml"), "inputs[0]");
    auto s = parseSocketSettings(node, type);
    return s ? std::string("OK") : s.error().message;
  };
  CHECK(err("tcp", "").find("listen") != std::string::npos);
  CHECK(err("tcp", "listen: localhost:80\n").find("IP:PORT") != std::string::npos);
  CHECK(err("tcp", "listen: 127.0.0.1\n").find("IP:PORT") != std::string::npos);
  CHECK(err("tcp", "listen: 127.0.0.1:70000\n").find("IP:PORT") != std::string::npos);
  CHECK(err("tcp", "listen: \"[::1]:5170\"\n") == "OK");
  CHECK(err("tcp", "listen: 127.0.0.1:1\nframing: lines\n").find("framing") != std::string::npos);
  CHECK(err("unix", "path: relative.sock\n").find("absolute") != std::string::npos);
  CHECK(err("syslog", "protocol: sctp\n").find("protocol") != std::string::npos);
  CHECK(err("syslog", "") == "OK");
  CHECK(err("udp", "listen: 127.0.0.1:0\nmax_connections: 3\n").find("max_connections") !=
        std::string::npos);
  CHECK(err("udp", "listen: 127.0.0.1:0\nmultiline: java\n") ==
        "t.yaml:4:12: 'inputs[0].multiline': multiline needs a stream protocol (tcp or unix): "
        "over udp each datagram is one message");
  CHECK(err("tcp", "listen: 127.0.0.1:0\nmultiline: {start: '[x'}\n")
            .find("'inputs[0].multiline.start': is not a valid regular expression") !=
        std::string::npos);
  CHECK(err("tcp", "listen: 127.0.0.1:0\nmultiline: go\n") == "OK");
  CHECK(err("unixgram", "path: /run/x.sock\n") == "OK");
  CHECK(err("unixgram", "path: /run/x.sock\nmultiline: go\n").find("over unixgram") !=
        std::string::npos);
  CHECK(err("unixgram", "path: /run/x.sock\nmax_connections: 3\n").find("max_connections") !=
        std::string::npos);
  CHECK(err("syslog", "protocol: unixgram\npath: /dev/log\n") == "OK");
}

TEST_CASE(
    "socket tcp multiline: traces joined per connection, timeout, and the last one at close") {
  Harness h("tcp", "listen: 127.0.0.1:0\nmultiline: {preset: java, timeout: 400ms}\n");
  test::RawSocket a(h.input->port());
  test::RawSocket b(h.input->port());
  // Two connections interleave: each builds its own record.
  REQUIRE(a.send("a1 ERROR boom\njava.lang.IllegalStateException: x\n"));
  REQUIRE(b.send("b1 INFO one\n"));
  REQUIRE(h.until([&] { return h.input->connectionsForTest() == 2; }));
  REQUIRE(a.send("\tat a.B.c(B.java:1)\r\na2 INFO next\n"));
  REQUIRE(h.until([&] { return h.sink.frames.size() >= 1; }));
  CHECK(h.sink.frames[0] ==
        "a1 ERROR boom\njava.lang.IllegalStateException: x\n\tat a.B.c(B.java:1)");
  // "b1" and "a2" have no line after them: they go out once their timeout passes.
  REQUIRE(h.until([&] { return h.sink.frames.size() == 3; }));
  std::vector<std::string> rest(h.sink.frames.begin() + 1, h.sink.frames.end());
  std::sort(rest.begin(), rest.end());
  CHECK(rest == std::vector<std::string>{"a2 INFO next", "b1 INFO one"});
  // Closing a connection emits the record it was building at once.
  REQUIRE(b.send("b2 ERROR\n\tat x.Y.z(Y.java:2)\n"));
  REQUIRE(h.until([&] { return h.im.bytes->Value() >= 124; }));
  b.close();
  REQUIRE(h.until([&] { return h.sink.frames.size() == 4; }, 300ms));
  CHECK(h.sink.frames[3] == "b2 ERROR\n\tat x.Y.z(Y.java:2)");
  CHECK(h.im.records->Value() == 4);
}

TEST_CASE("socket tcp multiline: no timeout, the record waits for the next line or the stop") {
  auto h =
      std::make_unique<Harness>("tcp",
                                "listen: 127.0.0.1:0\nmultiline: {start: '^\\d', timeout: 0}\n");
  test::RawSocket a(h->input->port());
  REQUIRE(a.send("1 first\n  more\n2 second\n  more\n"));
  REQUIRE(h->until([&] { return h->sink.frames.size() == 1; }));
  test::runLoopFor(h->loop, 200ms);
  CHECK(h->sink.frames == std::vector<std::string>{"1 first\n  more"});
  bool stopped = false;
  h->input->stop([&] { stopped = true; });
  REQUIRE(h->until([&] { return stopped; }));
  CHECK(h->sink.frames.size() == 2);
  CHECK(h->sink.frames[1] == "2 second\n  more");
  h->input.reset();
}

}  // namespace
}  // namespace ingestd::inputs
