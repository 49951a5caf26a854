// E2E: systemd integration. The ingestd binary speaks sd_notify(3) to a NOTIFY_SOCKET the test
// owns (READY=1 with STATUS= once started, WATCHDOG=1 at half WATCHDOG_USEC, STOPPING=1 on
// SIGTERM), sends nothing without one, and the shipped unit passes `systemd-analyze verify`
// with a security exposure of at most 2.5.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/ingestd_harness.h"
#include "tests/support/skip.h"

using namespace std::chrono_literals;
using namespace ingestd::test;

namespace {

// A datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path_.size() < sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  const std::string& path() const { return path_; }

  // Receives messages until one satisfies `pred` or the deadline passes; every message
  // received is kept in messages().
  template <class Pred>
  bool waitFor(Pred pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return false;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        continue;
      }
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        continue;
      }
      messages_.emplace_back(buf, static_cast<std::size_t>(n));
      if (pred(messages_.back())) {
        return true;
      }
    }
  }
  const std::vector<std::string>& messages() const { return messages_; }
  int count(const std::string& needle) const {
    int n = 0;
    for (const auto& m : messages_) {
      n += m.find(needle) != std::string::npos ? 1 : 0;
    }
    return n;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

bool contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

// Runs a command to completion; its exit code (or -1) and what it printed.
struct CommandResult {
  int rc = -1;
  std::string out;
};
CommandResult runCommand(std::vector<std::string> argv) {
  Process p(std::move(argv));
  CommandResult r;
  r.rc = p.wait(60s).value_or(-1);
  r.out = p.stdoutText() + p.stderrText();
  return r;
}

bool haveSystemdAnalyze() {
  return ::access("/usr/bin/systemd-analyze", X_OK) == 0 ||
         ::access("/bin/systemd-analyze", X_OK) == 0;
}

}  // namespace

TEST_CASE("systemd: READY with STATUS, WATCHDOG at half WATCHDOG_USEC, STOPPING on SIGTERM") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 50);
  NotifySocket sock(h.dir().file("notify.sock"));
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("adx", "Events"));
  // 400 ms: WATCHDOG=1 every 200 ms.
  REQUIRE(h.startIngestd(cfg, {}, {{"NOTIFY_SOCKET", sock.path()}, {"WATCHDOG_USEC", "400000"}}));

  REQUIRE(sock.waitFor([](const std::string& m) { return contains(m, "READY=1"); }, 10s));
  const auto ready = std::find_if(sock.messages().begin(), sock.messages().end(),
                                  [](const std::string& m) { return contains(m, "READY=1"); });
  CAPTURE(*ready);
  CHECK(contains(*ready, "STATUS="));
  CHECK(contains(*ready, "records/s delivered"));
  // Several pings: the timer repeats on the loop.
  REQUIRE(sock.waitFor([&](const std::string&) { return sock.count("WATCHDOG=1") >= 4; }, 10s));
  REQUIRE(h.waitForAll("Events", 50, 30s));

  h.ingestd().signal(SIGTERM);
  CHECK(sock.waitFor([](const std::string& m) { return contains(m, "STOPPING=1"); }, 10s));
  CHECK(h.ingestd().wait(30s) == 0);
  CHECK(sock.count("READY=1") == 1);
}

TEST_CASE("systemd: no watchdog pings when WATCHDOG_PID names another process") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 10);
  NotifySocket sock(h.dir().file("notify.sock"));
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("adx", "Events"));
  // The watchdog belongs to PID 1 (as when a wrapper script execs us without passing it on).
  REQUIRE(h.startIngestd(
      cfg, {},
      {{"NOTIFY_SOCKET", sock.path()}, {"WATCHDOG_USEC", "100000"}, {"WATCHDOG_PID", "1"}}));
  REQUIRE(sock.waitFor([](const std::string& m) { return contains(m, "READY=1"); }, 10s));
  REQUIRE(h.waitForAll("Events", 10, 30s));
  // Ten watchdog periods pass without a ping.
  sock.waitFor([](const std::string& m) { return contains(m, "WATCHDOG=1"); }, 1s);
  CHECK(sock.count("WATCHDOG=1") == 0);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("systemd: the unit passes systemd-analyze verify, security exposure at most 2.5") {
  if (!haveSystemdAnalyze()) {
    skipTest("systemd-analyze is not installed");
    return;
  }
  // The unit as shipped, with ExecStart pointing at this build's binary (verify checks that
  // the executables exist).
  std::ifstream in(std::string(INGESTD_SOURCE_DIR) + "/systemd/ingestd.service");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  std::string unit = text.str();
  const std::string from = "/usr/bin/ingestd";
  for (auto pos = unit.find(from); pos != std::string::npos; pos = unit.find(from, pos)) {
    unit.replace(pos, from.size(), binPath("ingestd"));
    pos += binPath("ingestd").size();
  }
  CHECK(contains(unit, "Type=notify"));
  CHECK(contains(unit, "WatchdogSec="));
  TempDir dir;
  const std::string path = dir.file("ingestd.service");
  std::ofstream(path) << unit;

  const auto verify = runCommand({"systemd-analyze", "verify", path});
  CAPTURE(verify.out);
  CHECK(verify.rc == 0);
  CHECK(verify.out.empty());

  const auto security = runCommand({"systemd-analyze", "security", "--offline=yes", path});
  CAPTURE(security.out);
  const std::string label = "Overall exposure level for ingestd.service: ";
  const auto at = security.out.find(label);
  REQUIRE(at != std::string::npos);
  const double exposure = std::stod(security.out.substr(at + label.size()));
  MESSAGE("systemd-analyze security exposure: " << exposure);
  CHECK(exposure <= 2.5);
}
