// End-to-end tests of the socket inputs: the daemon listens on 127.0.0.1 (ports the OS picks,
// read back from ingestd_input_listen_port), real clients send, and the rows are checked in
// kusto-local by sequence number and by field. util-linux `logger` is a client no one here
// wrote: RFC 5424 octet-counted over TCP, RFC 3164 over UDP, and a Unix socket.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "tests/e2e/ingestd_harness.h"
#include "tests/support/process.h"
#include "tests/support/raw_socket.h"
#include "tests/support/skip.h"
#include "tests/support/tls_test.h"
#include "tests/support/wait_for.h"

namespace ingestd::test {
namespace {

using namespace std::chrono_literals;

int listenPort(IngestdHarness& h, const std::string& input) {
  int port = 0;
  waitFor(
      [&] {
        port = static_cast<int>(
            h.metric("ingestd_input_listen_port", {fmt::format("input=\"{}\"", input)}));
        return port > 0;
      },
      10s);
  return port;
}

// A table with the syslog fields as columns, and its JSON mapping "<name>_json".
void createSyslogTable(IngestdHarness& h, const std::string& name) {
  const std::vector<std::string> cols = {"timestamp", "tag",     "host",   "source", "facility",
                                         "severity",  "appname", "procid", "msgid",  "message"};
  std::string schema = "(";
  std::string mapping = "[";
  for (std::size_t i = 0; i < cols.size(); ++i) {
    schema += fmt::format("{}{}:{}", i ? ", " : "", cols[i],
                          cols[i] == "timestamp" ? "datetime" : "string");
    mapping += fmt::format("{}{{\"column\":\"{}\",\"Properties\":{{\"Path\":\"$.{}\"}}}}",
                           i ? "," : "", cols[i], cols[i]);
  }
  schema += ", structured_data:dynamic)";
  mapping += ",{\"column\":\"structured_data\",\"Properties\":{\"Path\":\"$.structured_data\"}}]";
  h.kusto().createTableWithStreaming(IngestdHarness::kDb, name, schema);
  h.kusto().mgmt(IngestdHarness::kDb,
                 fmt::format(".create table {0} ingestion json mapping \"{0}_json\" '{1}'", name,
                             mapping));
}

// Starts ingestd with a syslog input "sys" over TCP on an OS-chosen port, into table Syslog;
// returns the port (0 when it did not come up).
int startSyslogTcp(IngestdHarness& h) {
  createSyslogTable(h, "Syslog");
  auto cfg =
      h.writeConfig("  - name: sys\n    type: syslog\n    protocol: tcp\n    listen: 127.0.0.1:0\n",
                    h.kustoOutput("adx", "Syslog"));
  return h.startIngestd(cfg) ? listenPort(h, "sys") : 0;
}

// A real client's file (a binary, a module), installed from Debian when missing and we may (root,
// and no conflicting syslog daemon: rsyslog would replace syslog-ng). False when it cannot be had.
bool ensureDebianTool(const std::string& path, const std::string& package,
                      const std::string& conflicting) {
  if (::access(path.c_str(), R_OK) == 0) {
    return true;
  }
  if (::geteuid() != 0 ||
      (!conflicting.empty() &&
       std::system(("dpkg -s " + conflicting + " >/dev/null 2>&1").c_str()) == 0)) {
    return false;
  }
  const std::string cmd =
      "DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q --no-install-recommends " +
      package + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 && ::access(path.c_str(), R_OK) == 0;
}

// One UDP datagram to 127.0.0.1:port.
bool sendDatagram(int port, const std::string& data) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok =
      fd >= 0 && ::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a),
                          sizeof a) == static_cast<ssize_t>(data.size());
  if (fd >= 0) {
    ::close(fd);
  }
  return ok;
}

bool runLogger(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/logger"};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv);
  auto rc = p.wait(20s);
  if (!rc || *rc != 0) {
    MESSAGE("logger failed: " << p.stderrText());
    return false;
  }
  return true;
}

TEST_CASE("tcp input: lines from two clients arrive in the table, each exactly once") {
  IngestdHarness h;
  h.createTable("Events");
  auto cfg = h.writeConfig("  - name: app\n    type: tcp\n    listen: 127.0.0.1:0\n",
                           h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  const int port = listenPort(h, "app");
  REQUIRE(port > 0);
  RawSocket a(port);
  RawSocket b(port);
  std::string even, odd;
  for (int i = 0; i < 2000; ++i) {
    (i % 2 == 0 ? even : odd) += fmt::format("seq={} from a client over tcp\n", i);
  }
  REQUIRE(a.send(even));
  REQUIRE(b.send(odd));
  REQUIRE(h.waitForAll("Events", 2000, 30s));
  CHECK(h.arrivals("Events").duplicates() == 0);
  std::set<std::string> sources;
  for (const auto& row : h.kusto().rows(IngestdHarness::kDb, "Events | project source")) {
    sources.insert(row[0].get<std::string>());
  }
  CHECK(sources.size() == 2);  // one per connection: the peer's address and port
  CHECK(h.metric("ingestd_input_socket_events_total", {"event=\"accepted\""}) == 2);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("syslog input: logger over TCP (RFC 5424, octet counting) with fields by query") {
  IngestdHarness h;
  const int port = startSyslogTcp(h);
  REQUIRE(port > 0);
  for (int i = 0; i < 50; ++i) {
    REQUIRE(runLogger({"--server", "127.0.0.1", "--port", std::to_string(port), "--tcp",
                       "--octet-count", "--rfc5424", "--msgid", "ID47", "--sd-id", "origin@32473",
                       "--sd-param", "ip=\"10.0.0.1\"", "-p", "local3.warning", "-t", "billing",
                       fmt::format("seq={} charge failed", i)}));
  }
  REQUIRE(h.waitForAll("Syslog", 50, 30s));
  auto rows = h.kusto().rows(
      IngestdHarness::kDb,
      "Syslog | where message == 'seq=7 charge failed' | project facility, severity, appname, "
      "msgid, structured_data");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == "local3");
  CHECK(rows[0][1] == "warning");
  CHECK(rows[0][2] == "billing");
  CHECK(rows[0][3] == "ID47");
  INFO(rows[0][4].dump());
  CHECK(rows[0][4]["origin@32473"]["ip"] == "10.0.0.1");
  CHECK(h.metric("ingestd_input_parse_errors_total", {"input=\"sys\""}) == 0);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("syslog input: logger over UDP (RFC 3164) and over a Unix socket") {
  IngestdHarness h;
  createSyslogTable(h, "Syslog");
  const std::string sock = h.dir().file("log.sock");
  auto cfg = h.writeConfig(
      "  - name: udp\n    type: syslog\n    protocol: udp\n    listen: 127.0.0.1:0\n"
      "  - name: local\n    type: syslog\n    protocol: unix\n    path: " +
          sock + "\n",
      h.kustoOutput("adx", "Syslog"));
  REQUIRE(h.startIngestd(cfg));
  const int port = listenPort(h, "udp");
  REQUIRE(port > 0);
  for (int i = 0; i < 20; ++i) {
    REQUIRE(
        runLogger({"--server", "127.0.0.1", "--port", std::to_string(port), "--udp", "--rfc3164",
                   "-p", "auth.err", "-t", "sshd", fmt::format("seq={} invalid user", i)}));
  }
  for (int i = 20; i < 40; ++i) {
    REQUIRE(runLogger(
        {"--socket", sock, "-p", "daemon.info", "-t", "cron", fmt::format("seq={} job done", i)}));
  }
  // A message without a HOSTNAME (RFC 5424's NILVALUE) gets the peer's address as its host.
  REQUIRE(sendDatagram(port, "<14>1 2026-12-02T10:00:00Z - noname - - - seq=40 no hostname"));
  REQUIRE(h.waitForAll("Syslog", 41, 30s));
  auto nohost =
      h.kusto().rows(IngestdHarness::kDb, "Syslog | where appname == 'noname' | project host");
  REQUIRE(nohost.size() == 1);
  CHECK(nohost[0][0] == "127.0.0.1");
  auto named = h.kusto().rows(IngestdHarness::kDb,
                              "Syslog | where message startswith 'seq=3 ' | project host");
  REQUIRE(named.size() == 1);
  CHECK(named[0][0] != "127.0.0.1");  // logger's own HOSTNAME wins
  auto udp = h.kusto().rows(IngestdHarness::kDb,
                            "Syslog | where message startswith 'seq=3 ' | project facility, "
                            "severity, appname");
  REQUIRE(udp.size() == 1);
  CHECK(udp[0][0] == "auth");
  CHECK(udp[0][1] == "err");
  CHECK(udp[0][2] == "sshd");
  auto local = h.kusto().rows(IngestdHarness::kDb,
                              "Syslog | where message startswith 'seq=25 ' | project facility, "
                              "appname, source");
  REQUIRE(local.size() == 1);
  CHECK(local[0][0] == "daemon");
  CHECK(local[0][1] == "cron");
  CHECK(local[0][2] == sock);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE(
    "tcp input: garbage, a slow sender and 2,000 connections against max_connections 100 do "
    "not stop a good client") {
  // 2,000 client sockets in this process: raise the soft descriptor limit towards the hard one.
  rlimit lim{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &lim) == 0);
  lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 4096);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &lim) == 0);
  const int crowd_size = static_cast<int>(std::min<rlim_t>(2000, lim.rlim_cur - 200));
  REQUIRE_MESSAGE(crowd_size == 2000, "the hard limit of open files is " << lim.rlim_max);
  IngestdHarness h;
  h.createTable("Events");
  auto cfg = h.writeConfig(
      "  - name: app\n    type: tcp\n    listen: 127.0.0.1:0\n    max_connections: 100\n"
      "    max_message_bytes: 1KiB\n",
      h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  const int port = listenPort(h, "app");
  REQUIRE(port > 0);
  RawSocket good(port);
  RawSocket slow(port);
  REQUIRE(waitFor([&] { return h.metric("ingestd_input_connections") == 2; }, 10s));
  std::vector<std::unique_ptr<RawSocket>> crowd;
  for (int i = 0; i < crowd_size; ++i) {
    crowd.push_back(std::make_unique<RawSocket>(port));
  }
  // 98 of them fit under max_connections; the other 1,902 are refused and closed.
  REQUIRE(waitFor(
      [&] {
        return h.metric("ingestd_input_socket_events_total", {"event=\"refused\""}) >=
               crowd_size - 98;
      },
      30s));
  CHECK(h.metric("ingestd_input_connections") == 100);
  std::string garbage;
  for (int i = 0; i < 4096; ++i) {
    garbage += static_cast<char>((i * 131) % 256);
  }
  REQUIRE(crowd[0]->send(garbage + std::string(5000, 'z') + "\n"));
  // The slow sender trickles one message a byte at a time while the good client sends.
  const std::string trickle = "seq=500 from a slow sender\n";
  std::string lines;
  for (int i = 0; i < 500; ++i) {
    lines += fmt::format("seq={} good\n", i);
  }
  for (std::size_t i = 0; i < trickle.size(); ++i) {
    REQUIRE(slow.send(trickle.substr(i, 1)));
    if (i == trickle.size() / 2) {
      REQUIRE(good.send(lines));
      REQUIRE(h.waitForAll("Events", 500, 30s));  // served while the slow one is mid-message
    }
    std::this_thread::sleep_for(5ms);  // pacing a sender, not waiting for a condition
  }
  REQUIRE(h.waitForAll("Events", 501, 30s));
  CHECK(h.arrivals("Events").duplicates() == 0);
  CHECK(h.metric("ingestd_input_dropped_records_total", {"reason=\"truncated\""}) >= 1);
  crowd.clear();
  REQUIRE(waitFor([&] { return h.metric("ingestd_input_connections") == 2; }, 20s));
  CHECK(h.stopIngestd() == 0);
}


TEST_CASE(
    "tail with parser regex: nginx lines become typed columns, a line that does not match is "
    "kept") {
  IngestdHarness h;
  const std::vector<std::string> cols = {"timestamp", "remote_addr", "method", "path",
                                         "status",    "bytes",       "message"};
  std::string schema =
      "(timestamp:datetime, remote_addr:string, method:string, path:string, "
      "status:long, bytes:long, message:string)";
  std::string mapping = "[";
  for (std::size_t i = 0; i < cols.size(); ++i) {
    mapping += fmt::format("{}{{\"column\":\"{}\",\"Properties\":{{\"Path\":\"$.{}\"}}}}",
                           i ? "," : "", cols[i], cols[i]);
  }
  mapping += "]";
  h.kusto().createTableWithStreaming(IngestdHarness::kDb, "Nginx", schema);
  h.kusto().mgmt(IngestdHarness::kDb,
                 fmt::format(".create table Nginx ingestion json mapping \"Nginx_json\" '{}'",
                             mapping));
  const std::string log = h.dir().file("access.log");
  {
    std::ofstream out(log);
    for (int i = 0; i < 300; ++i) {
      out << fmt::format(
          "10.0.0.{} - - [02/Dec/2026:03:{:02}:00 +0100] \"GET /item/{} HTTP/1.1\" {} {} \"-\" "
          "\"curl/8.0\"\n",
          i % 250, i % 60, i, i % 10 == 0 ? 404 : 200, 100 + i);
    }
    out << "this line is not an access log line\n";
  }
  const std::string parser =
      "    parser:\n      type: regex\n"
      "      pattern: '^(?<remote_addr>\\S+) \\S+ \\S+ \\[(?<time>[^\\]]+)\\] \"(?<method>[A-Z]+) "
      "(?<path>[^ \"]*) [^\"]*\" (?<status>\\d{3}) (?<bytes>\\d+)'\n"
      "      time_key: time\n      time_format: '%d/%b/%Y:%H:%M:%S %z'\n"
      "      types: {status: int, bytes: int}\n";
  auto cfg =
      h.writeConfig(IngestdHarness::tailInput("nginx", log, parser), h.kustoOutput("adx", "Nginx"));
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(waitFor([&] { return h.kusto().count(IngestdHarness::kDb, "Nginx") >= 301; }, 30s));
  CHECK(h.kusto().count(IngestdHarness::kDb, "Nginx | where status == 404") == 30);
  auto row = h.kusto().rows(IngestdHarness::kDb,
                            "Nginx | where path == '/item/61' | project remote_addr, method, "
                            "bytes, timestamp");
  REQUIRE(row.size() == 1);
  CHECK(row[0][0] == "10.0.0.61");
  CHECK(row[0][1] == "GET");
  CHECK(row[0][2] == 161);
  CHECK(row[0][3].get<std::string>().starts_with("2026-12-02T02:01:00"));  // +0100 -> UTC
  auto bad = h.kusto().rows(IngestdHarness::kDb,
                            "Nginx | where message == 'this line is not an access log line' | "
                            "project message");
  CHECK(bad.size() == 1);
  CHECK(h.metric("ingestd_input_parse_errors_total", {"input=\"nginx\""}) == 1);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("tail with parser cri: a container log's partial lines arrive as one row per line") {
  IngestdHarness h;
  h.kusto().createTableWithStreaming(IngestdHarness::kDb, "Pods",
                                     "(timestamp:datetime, stream:string, logtag:string, "
                                     "message:string, source:string)");
  std::string mapping = "[";
  const std::vector<std::string> cols = {"timestamp", "stream", "logtag", "message", "source"};
  for (std::size_t i = 0; i < cols.size(); ++i) {
    mapping += fmt::format("{}{{\"column\":\"{}\",\"Properties\":{{\"Path\":\"$.{}\"}}}}",
                           i ? "," : "", cols[i], cols[i]);
  }
  mapping += "]";
  h.kusto().mgmt(IngestdHarness::kDb,
                 fmt::format(".create table Pods ingestion json mapping \"Pods_json\" '{}'",
                             mapping));
  const std::string log = h.dir().file("pod.log");
  const std::string chunk(16 * 1024, 'x');  // containerd cuts lines at 16 KiB
  {
    std::ofstream out(log);
    for (int i = 0; i < 200; ++i) {
      const std::string t = fmt::format("2026-12-02T10:{:02}:{:02}.123456789Z", i / 60, i % 60);
      if (i % 10 == 0) {
        // A 48 KiB line in three chunks, with a stderr line between the first two.
        out << t << " stdout P seq=" << i << " " << chunk << "\n";
        out << t << " stderr F err=" << i << "\n";
        out << t << " stdout P " << chunk << "\n" << t << " stdout F " << chunk << "\n";
      } else {
        out << t << " stdout F seq=" << i << " short\n";
      }
    }
  }
  auto cfg = h.writeConfig(IngestdHarness::tailInput("pods", log, "    parser: cri\n"),
                           h.kustoOutput("adx", "Pods"));
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(waitFor([&] { return h.kusto().count(IngestdHarness::kDb, "Pods") >= 220; }, 30s));
  CHECK(h.kusto().count(IngestdHarness::kDb, "Pods") == 220);
  CHECK(h.kusto().count(IngestdHarness::kDb, "Pods | where stream == 'stderr'") == 20);
  auto row = h.kusto().rows(IngestdHarness::kDb,
                            "Pods | where message startswith 'seq=40 ' | project message, logtag, "
                            "timestamp");
  REQUIRE(row.size() == 1);
  CHECK(row[0][0] == "seq=40 " + chunk + chunk + chunk);
  CHECK(row[0][1] == "F");
  CHECK(row[0][2].get<std::string>().starts_with("2026-12-02T10:00:40.123"));
  CHECK(h.metric("ingestd_input_parse_errors_total", {"input=\"pods\""}) == 0);
  CHECK(h.stopIngestd() == 0);
}

// rsyslogd in the foreground with its own Unix socket and work directory, nothing of the host's:
// what is logged to its socket is forwarded with omfwd, octet-counted RFC 5424 over TCP, to
// 127.0.0.1:port. `global` and `action` add parameters to its global() and action() (TLS).
class RsyslogRelay {
 public:
  RsyslogRelay(IngestdHarness& h, int port, const std::string& global = "",
               const std::string& action = "")
      : work_(h.dir().file("rsyslog")), sock_(work_ + "/in.sock") {
    std::filesystem::create_directories(work_);
    const std::string conf = work_ + "/rsyslog.conf";
    std::ofstream(conf) << fmt::format(
        "global(workDirectory=\"{0}\"{3})\n"
        "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
        "input(type=\"imuxsock\" Socket=\"{1}\" RateLimit.Interval=\"0\")\n"
        "action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{2}\" protocol=\"tcp\"{4}\n"
        "       TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\"\n"
        "       queue.type=\"LinkedList\" action.resumeRetryCount=\"-1\")\n",
        work_, sock_, port, global, action);
    process_ =
        std::make_unique<Process>(std::vector<std::string>{"/usr/sbin/rsyslogd", "-n", "-f", conf,
                                                           "-i", work_ + "/rsyslog.pid"});
  }
  // rsyslogd is listening on its socket.
  bool ready() {
    return waitFor([&] { return std::filesystem::exists(sock_); }, 20s);
  }
  // Logs "seq=<i> <text>" for i in [0, n) through rsyslog with util-linux logger.
  bool logLines(int n, const std::string& text, const std::string& priority,
                const std::string& tag) {
    const std::string lines = work_ + "/lines.txt";
    {
      std::ofstream out(lines);
      for (int i = 0; i < n; ++i) {
        out << fmt::format("seq={} {}\n", i, text);
      }
    }
    return runLogger({"--socket", sock_, "-p", priority, "-t", tag, "-f", lines});
  }

 private:
  std::string work_;
  std::string sock_;
  std::unique_ptr<Process> process_;
};

TEST_CASE("syslog input: rsyslog forwards with omfwd over TCP (octet-counted RFC 5424)") {
  if (!ensureDebianTool("/usr/sbin/rsyslogd", "rsyslog", "syslog-ng-core")) {
    skipTest("rsyslogd is not installed and cannot be installed here (not root, or syslog-ng)");
    return;
  }
  IngestdHarness h;
  const int port = startSyslogTcp(h);
  REQUIRE(port > 0);
  RsyslogRelay rsyslog(h, port);
  REQUIRE(rsyslog.ready());
  REQUIRE(rsyslog.logLines(1000, "forwarded by rsyslog", "user.notice", "relayed"));
  REQUIRE(h.waitForAll("Syslog", 1000, 60s));
  auto rows = h.kusto().rows(IngestdHarness::kDb,
                             "Syslog | where message == 'seq=500 forwarded by rsyslog' | project "
                             "facility, severity, appname, host");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == "user");
  CHECK(rows[0][1] == "notice");
  CHECK(rows[0][2] == "relayed");
  CHECK_FALSE(rows[0][3].get<std::string>().empty());
  CHECK(h.arrivals("Syslog").duplicates() == 0);
  CHECK(h.metric("ingestd_input_parse_errors_total", {"input=\"sys\""}) == 0);
  CHECK(h.metric("ingestd_input_socket_events_total", {"event=\"framing_error\""}) == 0);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE(
    "syslog input over TLS (RFC 5425): rsyslog forwards with omfwd and GnuTLS, client "
    "certificate required, a plain-text sender is refused and counted") {
  if (!ensureDebianTool("/usr/sbin/rsyslogd", "rsyslog", "syslog-ng-core") ||
      !ensureDebianTool("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so", "rsyslog-gnutls", "")) {
    skipTest("rsyslogd with GnuTLS (rsyslog-gnutls) is not installed and cannot be installed here");
    return;
  }
  IngestdHarness h;
  const TestCertFiles certs = makeTestCerts(h.dir().file("pki"));
  createSyslogTable(h, "Syslog");
  auto cfg = h.writeConfig(
      fmt::format("  - name: sys\n    type: syslog\n    protocol: tcp\n    listen: 127.0.0.1:0\n"
                  "    tls:\n      cert_file: {}\n      key_file: {}\n      ca_file: {}\n"
                  "      client_auth: required\n",
                  certs.server_cert, certs.server_key, certs.ca),
      h.kustoOutput("adx", "Syslog"));
  REQUIRE(h.startIngestd(cfg));
  const int port = listenPort(h, "sys");
  REQUIRE(port > 0);

  // A sender that does not speak TLS is refused; the listener goes on.
  REQUIRE(runLogger({"--server", "127.0.0.1", "--port", std::to_string(port), "--tcp",
                     "--octet-count", "-t", "plain", "not over tls"}));
  REQUIRE(waitFor(
      [&] { return h.metric("ingestd_input_socket_events_total", {"event=\"tls_failed\""}) >= 1; },
      10s));

  RsyslogRelay rsyslog(
      h, port,
      fmt::format(
          " DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"{}\"\n"
          "       DefaultNetstreamDriverCertFile=\"{}\" DefaultNetstreamDriverKeyFile=\"{}\"",
          certs.ca, certs.client_cert, certs.client_key),
      "\n       StreamDriver=\"gtls\" StreamDriverMode=\"1\" StreamDriverAuthMode=\"x509/name\""
      "\n       StreamDriverPermittedPeers=\"localhost\"");
  REQUIRE(rsyslog.ready());
  REQUIRE(rsyslog.logLines(1000, "forwarded by rsyslog over TLS", "local3.warning", "tlsrelay"));
  REQUIRE(h.waitForAll("Syslog", 1000, 60s));
  auto rows = h.kusto().rows(IngestdHarness::kDb,
                             "Syslog | where message == 'seq=999 forwarded by rsyslog over TLS' "
                             "| project facility, severity, appname");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == "local3");
  CHECK(rows[0][1] == "warning");
  CHECK(rows[0][2] == "tlsrelay");
  CHECK(h.arrivals("Syslog").duplicates() == 0);
  // The plain-text message is not a row: its bytes were never a TLS record.
  CHECK(h.kusto().rows(IngestdHarness::kDb, "Syslog | where appname == 'plain'").empty());
  CHECK(h.metric("ingestd_input_socket_events_total", {"event=\"tls_failed\""}) == 1);
  CHECK(h.stopIngestd() == 0);
}

// syslog-ng's loggen, a load generator no one here wrote. syslog-ng conflicts with rsyslog (which
// other tests install), so its package is only unpacked (dpkg -x) into the build tree, never
// installed; the libraries it needs are installed from Debian when missing. Returns the
// directory that holds usr/bin/loggen, or "" when it cannot be had (not root, no registry).
std::string ensureLoggen() {
  if (::access("/usr/bin/loggen", X_OK) == 0) {
    return "/";
  }
  const std::string dir = std::string(INGESTD_BIN_DIR) + "/../test-tools/syslog-ng";
  const std::string loggen = dir + "/usr/bin/loggen";
  if (::access(loggen.c_str(), X_OK) != 0) {
    if (::geteuid() != 0) {
      return "";
    }
    const std::string fetch = fmt::format(
        "set -e; mkdir -p '{0}'; cd '{0}'; rm -f syslog-ng-core_*.deb; "
        "timeout 300 apt-get download -q syslog-ng-core >/dev/null 2>&1 || "
        "{{ timeout 300 apt-get update -q >/dev/null 2>&1; "
        "timeout 300 apt-get download -q syslog-ng-core >/dev/null 2>&1; }}; "
        "dpkg -x syslog-ng-core_*.deb .",
        dir);
    if (std::system(fetch.c_str()) != 0 || ::access(loggen.c_str(), X_OK) != 0) {
      return "";
    }
  }
  // Its shared libraries (GLib, ivykis, ...): installing them does not touch rsyslog.
  const std::string missing =
      fmt::format("LD_LIBRARY_PATH='{0}/usr/lib/syslog-ng' ldd '{1}' | grep -q 'not found'", dir,
                  loggen);
  if (std::system(missing.c_str()) == 0) {
    if (::geteuid() != 0 ||
        std::system("DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q "
                    "--no-install-recommends libglib2.0-0 libivykis0 libnet1 libjson-c5 "
                    "libwrap0 libpcre3 libssl3 >/dev/null 2>&1") != 0 ||
        std::system(missing.c_str()) == 0) {
      return "";
    }
  }
  return dir;
}

TEST_CASE(
    "syslog input: syslog-ng loggen load, 4 connections of RFC 5424 octet-counted messages, "
    "every one by its thread and sequence number") {
  const std::string root = ensureLoggen();
  if (root.empty()) {
    skipTest("syslog-ng's loggen is not installed and cannot be fetched here");
    return;
  }
  IngestdHarness h;
  const int port = startSyslogTcp(h);
  REQUIRE(port > 0);
  constexpr int kConns = 4;
  constexpr int kPerConn = 25000;
  ProcessOptions env;
  if (root != "/") {
    env.env = {{"SYSLOGNG_PREFIX", root + "/usr"},
               {"LD_LIBRARY_PATH", root + "/usr/lib/syslog-ng"}};
  }
  // -P: RFC 5424 with octet counting; -r: messages per second per connection (bounded load).
  Process loggen({(root == "/" ? std::string("/usr") : root + "/usr") + "/bin/loggen", "-i", "-S",
                  "-P", "-Q", "-s", "300", "-r", "20000", "-n", std::to_string(kPerConn),
                  fmt::format("--active-connections={}", kConns), "127.0.0.1",
                  std::to_string(port)},
                 env);
  auto rc = loggen.wait(120s);
  REQUIRE(rc.has_value());
  REQUIRE_MESSAGE(*rc == 0, loggen.stderrText());
  const std::int64_t total = std::int64_t{kConns} * kPerConn;
  REQUIRE(waitFor([&] { return h.kusto().count(IngestdHarness::kDb, "Syslog") >= total; }, 60s));
  // Every message once, by loggen's own numbering ("seq: 0000000042, thread: 0003, ...").
  std::set<std::pair<int, int>> seen;
  std::int64_t rows = 0;
  for (const auto& row : h.kusto().rows(IngestdHarness::kDb, "Syslog | project message")) {
    ++rows;
    const std::string m = row[0].get<std::string>();
    const auto s = m.find("seq: ");
    const auto t = m.find(", thread: ");
    REQUIRE(s != std::string::npos);
    REQUIRE(t != std::string::npos);
    seen.emplace(std::stoi(m.substr(t + 10, 4)), std::stoi(m.substr(s + 5, 10)));
  }
  CHECK(rows == total);
  CHECK(static_cast<std::int64_t>(seen.size()) == total);
  for (int c = 0; c < kConns; ++c) {
    CHECK(seen.count({c, 0}) == 1);
    CHECK(seen.count({c, kPerConn - 1}) == 1);
  }
  // The fields, by query: loggen's header is "<38>1 TIME localhost prg00000 1234 - -".
  auto fields = h.kusto().rows(IngestdHarness::kDb,
                               "Syslog | where appname == 'prg00000' | where procid == '1234' "
                               "| where facility == 'auth' | where severity == 'info' | count");
  REQUIRE(fields.size() == 1);
  CHECK(fields[0][0] == total);
  CHECK(h.metric("ingestd_input_parse_errors_total", {"input=\"sys\""}) == 0);
  CHECK(h.metric("ingestd_input_dropped_records_total", {"input=\"sys\""}) == 0);
  CHECK(h.stopIngestd() == 0);
}

// A blocking TCP sender: write() waits for the kernel as long as backpressure lasts (60 s at
// most per call), the way a syslog forwarder with a disk queue behaves.
bool sendBlocking(int port, const std::string& data) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{60, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  for (std::size_t off = 0; ok && off < data.size();) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    ok = n > 0;
    off += ok ? static_cast<std::size_t>(n) : 0;
  }
  if (fd >= 0) {
    ::close(fd);
  }
  return ok;
}

TEST_CASE(
    "tcp input: a slow service and senders writing as fast as TCP lets them, RSS within the "
    "budget and nothing lost") {
  IngestdHarness h;
  h.createTable("Events");
  h.kusto().setFaults({{"latency_ms", 400}});  // every request waits: the pipeline fills
  auto cfg = h.writeConfig("  - name: app\n    type: tcp\n    listen: 127.0.0.1:0\n",
                           h.kustoOutput("adx", "Events", "*", "    concurrency: 2\n",
                                         "{ max_bytes: 1MiB, max_delay: 200ms }"),
                           "  memory_limit: 16MiB\n");
  REQUIRE(h.startIngestd(cfg));
  const int port = listenPort(h, "app");
  REQUIRE(port > 0);
  constexpr int kLines = 160000;  // ~26 MB of lines: well over the budget
  std::string a;
  std::string b;
  for (int i = 0; i < kLines; ++i) {
    (i % 2 == 0 ? a : b) +=
        fmt::format("seq={} a line from a fast sender, padded to look like a log line\n", i);
  }
  std::atomic<int> sent{0};
  std::thread ta([&] { sent += sendBlocking(port, a) ? 1 : 0; });
  std::thread tb([&] { sent += sendBlocking(port, b) ? 1 : 0; });
  std::uint64_t peak_rss = 0;
  double peak_paused = 0;
  waitFor(
      [&] {
        peak_rss = std::max(peak_rss, h.ingestdRss());
        peak_paused = h.metric("ingestd_input_paused_seconds_total", {"input=\"app\""});
        return sent == 2;
      },
      120s, 100ms);
  ta.join();
  tb.join();
  REQUIRE(sent == 2);
  CHECK(peak_paused > 0);  // the input was held back: senders blocked, nothing dropped
  h.kusto().setFaults(nlohmann::json::object());
  REQUIRE(h.waitForAll("Events", kLines, 120s));
  CHECK(h.arrivals("Events").duplicates() == 0);
  CHECK(h.metric("ingestd_input_dropped_records_total", {"input=\"app\""}) == 0);
  MESSAGE("peak RSS ", peak_rss >> 20, " MiB with memory_limit 16 MiB");
#ifndef INGESTD_SANITIZED
  CHECK(peak_rss <= (16ull << 20) + (32ull << 20));
#endif
  CHECK(h.stopIngestd() == 0);
}

}  // namespace
}  // namespace ingestd::test
