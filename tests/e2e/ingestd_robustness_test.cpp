// E2E: what a hostile operator does to a running ingestd (issue 6): a dead-letter directory
// that cannot be written or fills up, stray signals, a second instance on the same state
// directory, a cluster that fails every request, lines that are not JSON, files that cannot be
// opened. Each test counts what arrived by sequence number, like the delivery tests.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "bench/nginx_log_gen.h"
#include "tests/e2e/ingestd_harness.h"
#include "tests/support/http_client.h"
#include "tests/support/wait_for.h"

using namespace std::chrono_literals;
using namespace ingestd::test;

namespace {

std::uint64_t fileSize(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<std::uint64_t>(n);
}

std::uint64_t directoryBytes(const std::string& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file()) {
      total += static_cast<std::uint64_t>(e.file_size());
    }
  }
  return total;
}

int countFiles(const std::string& dir, const std::string& ext) {
  int n = 0;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(dir, ec)) {
    n += e.path().extension() == ext ? 1 : 0;
  }
  return n;
}

HttpResponse readyz(IngestdHarness& h) {
  return httpRequest("GET", fmt::format("http://127.0.0.1:{}/readyz", h.metricsPort()));
}

// A TCP port on 127.0.0.1 that is bound but not listening: connecting to it is refused.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string outputTo(const std::string& name, const std::string& url, const std::string& table) {
  return fmt::format(
      "  - name: {}\n    type: kusto\n    match: [\"*\"]\n    cluster: {}\n"
      "    database: Logs\n    table: {}\n    format: multijson\n    mapping: {}_json\n"
      "    auth: {{ method: none }}\n    batch: {{ max_delay: 200ms }}\n"
      "    retry: {{ initial: 100ms, max: 1s }}\n",
      name, url, table, table);
}

}  // namespace

TEST_CASE(
    "a dead letter that cannot be written is not acknowledged, and after a restart with the "
    "table fixed every row arrives") {
  IngestdHarness h;
  h.createTable("Bad");
  h.kusto().setFaults({{"fail_tables", {std::string(IngestdHarness::kDb) + ".Bad"}}});
  // <state_dir>/deadletter is a file: every dead-letter write fails with "Not a directory".
  std::filesystem::create_directories(h.dir().file("state"));
  std::ofstream(h.dir().file("state/deadletter")) << "not a directory\n";
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 2000);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("bad", "Bad"));
  REQUIRE(h.startIngestd(cfg));
  CHECK(
      waitFor([&] { return h.metric("ingestd_output_deadletter_write_errors_total") >= 2; }, 20s));
  CHECK(h.metric("ingestd_output_deadletter_blocks_total") == 0);
  // Nothing is acknowledged: the checkpoint stays behind the whole file.
  CHECK(waitFor([&] { return h.metric("ingestd_checkpoint_lag_bytes") == fileSize(log); }, 10s));
  auto ready = readyz(h);
  CHECK(ready.status == 503);
  CHECK(ready.body.find("dead-letter") != std::string::npos);
  CHECK(h.ingestd().stderrText().find("Not a directory") != std::string::npos);
  // Shutdown does not wait for a write that keeps failing.
  CHECK(h.stopIngestd(15s) == 0);

  h.kusto().setFaults(nlohmann::json::object());
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Bad", 2000, 30s));
  CHECK(h.arrivals("Bad").duplicates() == 0);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE(
    "a dead-letter directory that becomes writable again takes the kept block without a "
    "restart") {
  IngestdHarness h;
  h.createTable("Bad");
  h.kusto().setFaults({{"fail_tables", {std::string(IngestdHarness::kDb) + ".Bad"}}});
  std::filesystem::create_directories(h.dir().file("state"));
  std::ofstream(h.dir().file("state/deadletter")) << "not a directory\n";
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 1000);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("bad", "Bad"));
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(
      waitFor([&] { return h.metric("ingestd_output_deadletter_write_errors_total") >= 1; }, 20s));
  // The input is paused while the block cannot be stored: lines written now are not read.
  CHECK(waitFor([&] { return h.metric("ingestd_input_records_total") == 1000; }, 10s));
  IngestdHarness::appendLines(log, 1000, 1500);
  CHECK(waitFor([&] { return h.metric("ingestd_input_paused_seconds_total") >= 1.0; }, 20s));
  CHECK(h.metric("ingestd_input_records_total") == 1000);
  std::filesystem::remove(h.dir().file("state/deadletter"));
  CHECK(waitFor([&] { return h.metric("ingestd_output_deadletter_blocks_total") >= 1; }, 20s));
  // Once stored, every record is accounted for and the offsets move to the end of the file.
  CHECK(waitFor(
      [&] {
        return h.metric("ingestd_output_dropped_records_total", {"reason=\"rejected\""}) == 1500;
      },
      20s));
  CHECK(waitFor([&] { return h.metric("ingestd_checkpoint_lag_bytes") == 0; }, 10s));
  CHECK(readyz(h).status == 200);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE(
    "the dead-letter directory stays within deadletter.max_size, and what does not fit is "
    "counted and logged") {
  IngestdHarness h;
  h.createTable("Bad");
  h.kusto().setFaults({{"fail_tables", {std::string(IngestdHarness::kDb) + ".Bad"}}});
  const std::string log = h.dir().file("app.log");
  // Random letters compress about 1.6:1: 16 KiB blocks are ~10 KiB on disk each.
  IngestdHarness::appendLines(log, 0, 4000, 200, true);
  auto cfg =
      h.writeConfig(IngestdHarness::tailInput("app", log),
                    h.kustoOutput("bad", "Bad", "*", "", "{ max_bytes: 16KiB, max_delay: 200ms }"),
                    "  deadletter: { max_size: 64KiB }\n");
  REQUIRE(h.startIngestd(cfg));
  CHECK(waitFor(
      [&] {
        return h.metric("ingestd_output_dropped_records_total", {"reason=\"rejected\""}) == 4000;
      },
      30s));
  // A full directory does not stall the input: everything is accounted for and acknowledged.
  CHECK(waitFor([&] { return h.metric("ingestd_checkpoint_lag_bytes") == 0; }, 10s));
  CHECK(h.metric("ingestd_output_deadletter_blocks_total") >= 1);
  CHECK(h.metric("ingestd_output_deadletter_discarded_blocks_total") >= 1);
  CHECK(directoryBytes(h.dir().file("state/deadletter")) <= 64 * 1024);
  CHECK(waitFor([&] { return h.metric("ingestd_deadletter_bytes") > 0; }, 5s));
  CHECK(h.metric("ingestd_deadletter_bytes") <= 64 * 1024);
  CHECK(h.ingestd().stderrText().find("deadletter.max_size") != std::string::npos);
  CHECK(h.stopIngestd() == 0);
  // The cap counts what an earlier run left: a restart writes nothing more.
  const int json_before = countFiles(h.dir().file("state/deadletter"), ".json");
  IngestdHarness::appendLines(log, 4000, 5000, 200, true);
  REQUIRE(h.startIngestd(cfg));
  CHECK(waitFor(
      [&] {
        return h.metric("ingestd_output_dropped_records_total", {"reason=\"rejected\""}) == 1000;
      },
      30s));
  CHECK(directoryBytes(h.dir().file("state/deadletter")) <= 64 * 1024);
  CHECK(countFiles(h.dir().file("state/deadletter"), ".json") <= json_before + 1);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("SIGHUP is logged and ignored: the daemon keeps shipping") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 500);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Events", 500, 30s));
  h.ingestd().signal(SIGHUP);
  REQUIRE(h.ingestd().waitForStderrLine("SIGHUP", 10s).has_value());
  h.ingestd().signal(SIGPIPE);
  IngestdHarness::appendLines(log, 500, 1000);
  REQUIRE(h.waitForAll("Events", 1000, 30s));
  CHECK(h.ingestd().running());
  CHECK(h.stopIngestd() == 0);
}

// logrotate may send HUP while the daemon is still starting (reading its config, taking the lock):
// that must not kill it either. The config comes through a FIFO, so the test knows ingestd is
// inside its config load when the signal arrives.
TEST_CASE("SIGHUP while the config is being read does not kill the daemon") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 50);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("adx", "Events"));
  std::string text;
  {
    std::ifstream in(cfg);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string fifo = h.dir().file("config.fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  Process daemon({binPath("ingestd"), "run", "-c", fifo});
  int fd = -1;
  // Opening the write end succeeds once ingestd has opened the read end (ENXIO until then).
  REQUIRE(waitFor(
      [&] {
        fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        return fd >= 0 || !daemon.running();
      },
      10s));
  REQUIRE(fd >= 0);
  daemon.signal(SIGHUP);
  ::signal(SIGPIPE, SIG_IGN);  // a daemon killed by the HUP fails the write, not the test process
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
  REQUIRE(daemon.waitForStderrLine("started", 15s).has_value());
  REQUIRE(h.waitForAll("Events", 50, 30s));
  CHECK(daemon.running());
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(20s) == 0);
}

TEST_CASE("unrouted: drop counts every dropped record as no_route before its offset moves on") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string app = h.dir().file("app.log");
  const std::string noise = h.dir().file("noise.log");
  IngestdHarness::appendLines(app, 0, 100);
  IngestdHarness::appendLines(noise, 1000, 1200);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", app) +
                               IngestdHarness::tailInput("noise", noise, "    unrouted: drop\n"),
                           h.kustoOutput("adx", "Events", "app"));
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Events", 100, 30s));
  CHECK(waitFor(
      [&] {
        return h.metric("ingestd_input_dropped_records_total",
                        {"input=\"noise\"", "reason=\"no_route\""}) == 200;
      },
      10s));
  CHECK(h.ingestd().stderrText().find("No output matches tag \"noise\"") != std::string::npos);
  CHECK(h.stopIngestd() == 0);
  CHECK(h.arrivals("Events").rows == 100);
  // Counted, then acknowledged: a restart reads only what is new.
  IngestdHarness::appendLines(noise, 1200, 1210);
  REQUIRE(h.startIngestd(cfg));
  CHECK(waitFor(
      [&] {
        return h.metric("ingestd_input_dropped_records_total",
                        {"input=\"noise\"", "reason=\"no_route\""}) == 10;
      },
      10s));
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("every terminating signal shuts down cleanly, with a final checkpoint") {
  for (int sig : {SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGPWR}) {
    CAPTURE(sig);
    IngestdHarness h;
    h.createTable("Events");
    const std::string log = h.dir().file("app.log");
    IngestdHarness::appendLines(log, 0, 300);
    auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("adx", "Events"));
    REQUIRE(h.startIngestd(cfg));
    REQUIRE(h.waitForAll("Events", 300, 30s));
    h.ingestd().signal(sig);
    CHECK(h.ingestd().wait(20s) == 0);
    CHECK(h.ingestd().stderrText().find("Stopped.") != std::string::npos);
    // The final checkpoint covers the whole file: after a restart only new lines are sent.
    IngestdHarness::appendLines(log, 300, 400);
    REQUIRE(h.startIngestd(cfg));
    REQUIRE(h.waitForAll("Events", 400, 30s));
    CHECK(h.metric("ingestd_input_records_total") == 100);
    CHECK(h.stopIngestd() == 0);
    CHECK(h.arrivals("Events").duplicates() == 0);
  }
}

TEST_CASE("a second ingestd on the same state_dir exits 1 naming the first one's pid") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 1000);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  Process second({binPath("ingestd"), "run", "-c", cfg});
  CHECK(second.wait(15s) == 1);
  CHECK(second.stderrText().find(fmt::format("pid {}", h.ingestd().pid())) != std::string::npos);
  REQUIRE(h.waitForAll("Events", 1000, 30s));
  CHECK(h.arrivals("Events").duplicates() == 0);
  CHECK(h.stopIngestd() == 0);
  // Once the first has stopped, the lock is free again.
  REQUIRE(h.startIngestd(cfg));
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("/readyz is 503 with a reason while every request fails, 200 once blocks go through") {
  IngestdHarness h;
  h.createTable("Events");
  h.kusto().setFaults({{"error_500", 1.0}});
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 500);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  // retry.max is 2 s in the harness: after that long without a delivery, not ready.
  CHECK(waitFor([&] { return readyz(h).status == 503; }, 20s));
  auto r = readyz(h);
  CHECK(r.body.find("adx") != std::string::npos);
  CHECK(r.body.find("500") != std::string::npos);
  CHECK(h.metric("ingestd_output_oldest_unacked_age_seconds") >= 2);
  CHECK(h.metric("ingestd_output_last_success_timestamp_seconds") == 0);
  h.kusto().setFaults(nlohmann::json::object());
  REQUIRE(h.waitForAll("Events", 500, 30s));
  CHECK(waitFor([&] { return readyz(h).status == 200; }, 10s));
  CHECK(waitFor([&] { return h.metric("ingestd_output_oldest_unacked_age_seconds") == 0; }, 5s));
  CHECK(h.metric("ingestd_output_last_success_timestamp_seconds") > 1.7e9);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("connection failures are labelled by kind, and known label values exist from the start") {
  IngestdHarness h;
  RefusingPort refused;
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 100);
  auto cfg =
      h.writeConfig(IngestdHarness::tailInput("app", log),
                    outputTo("adx", fmt::format("http://127.0.0.1:{}", refused.port()), "Events"));
  REQUIRE(h.startIngestd(cfg));
  auto text = httpRequest("GET", fmt::format("http://127.0.0.1:{}/metrics", h.metricsPort())).body;
  for (const char* series :
       {"ingestd_output_blocks_total{output=\"adx\",result=\"rejected\",table=\"Events\"} 0",
        "ingestd_output_dropped_records_total{output=\"adx\",reason=\"retries_exhausted\"",
        "ingestd_input_file_events_total{event=\"open_failed\",input=\"app\"} 0",
        "ingestd_input_dropped_records_total{input=\"app\",reason=\"no_route\"} 0",
        "ingestd_input_parse_errors_total{input=\"app\"} 0",
        "ingestd_output_deadletter_write_errors_total{output=\"adx\",table=\"Events\"} 0"}) {
    CHECK_MESSAGE(text.find(series) != std::string::npos, series);
  }
  CHECK(text.find("kind=\"disk\"") == std::string::npos);
  CHECK(waitFor(
      [&] {
        return h.metric("ingestd_output_requests_total",
                        {"code=\"0\"", "error=\"ConnectFailed\""}) >= 2;
      },
      20s));
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("parser json: a line that is not JSON is sent whole as message and counted") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  {
    std::ofstream out(log, std::ios::binary);
    out << "{\"message\":\"seq=0 fine\"}\n"
        << "seq=1 not json at all\n"
        << "{\"message\":\"seq=2 fine\"}\n"
        << "seq=3 {broken\n"
        << "seq=4 bad utf8 \xff\xfe here\n";
  }
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log, "    parser: json\n"),
                           h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Events", 5, 30s));
  CHECK(waitFor(
      [&] { return h.metric("ingestd_input_parse_errors_total", {"input=\"app\""}) == 3; }, 10s));
  CHECK(h.metric("ingestd_output_repaired_records_total", {"reason=\"invalid_utf8\""}) == 1);
  auto rows = h.kusto().rows(IngestdHarness::kDb,
                             "Events | where message startswith 'seq=1' | project message");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == "seq=1 not json at all");
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("file events: delete-and-recreate is one 'deleted', a rename is one 'rotated'") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 100);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log, "    scan_interval: 200ms\n"),
                           h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Events", 100, 30s));
  std::filesystem::remove(log);
  IngestdHarness::appendLines(log, 100, 200);
  REQUIRE(h.waitForAll("Events", 200, 30s));
  CHECK(waitFor(
      [&] { return h.metric("ingestd_input_file_events_total", {"event=\"deleted\""}) == 1; },
      10s));
  CHECK(h.metric("ingestd_input_file_events_total", {"event=\"rotated\""}) == 0);
  std::filesystem::rename(log, log + ".1");
  IngestdHarness::appendLines(log, 200, 300);
  REQUIRE(h.waitForAll("Events", 300, 30s));
  CHECK(waitFor(
      [&] { return h.metric("ingestd_input_file_events_total", {"event=\"rotated\""}) == 1; },
      10s));
  CHECK(h.metric("ingestd_input_file_events_total", {"event=\"deleted\""}) == 1);
  CHECK(h.arrivals("Events").duplicates() == 0);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("a file that cannot be opened is counted once and logged") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string good = h.dir().file("a.log");
  const std::string locked = h.dir().file("b.log");
  IngestdHarness::appendLines(good, 0, 100);
  IngestdHarness::appendLines(locked, 100, 200);
  REQUIRE(::chmod(locked.c_str(), 0) == 0);
  std::vector<std::string> prefix;
  if (::geteuid() == 0) {
    // Root opens anything: run the daemon as nobody, in a directory nobody may use.
    REQUIRE(::chmod(h.dir().path().c_str(), 0777) == 0);
    REQUIRE(::chmod(good.c_str(), 0644) == 0);
    prefix = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
  }
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", h.dir().file("*.log"),
                                                     "    scan_interval: 200ms\n"),
                           h.kustoOutput("adx", "Events"));
  REQUIRE(::chmod(cfg.c_str(), 0644) == 0);
  REQUIRE(h.startIngestd(cfg, prefix));
  REQUIRE(h.waitForAll("Events", 100, 30s));
  CHECK(waitFor(
      [&] { return h.metric("ingestd_input_file_events_total", {"event=\"open_failed\""}) == 1; },
      10s));
  // Scans go on trying; the counter does not grow with them.
  CHECK(h.ingestd().waitForStderrLine("Cannot open", 5s).has_value());
  CHECK(h.metric("ingestd_input_file_events_total", {"event=\"open_failed\""}) == 1);
  CHECK(h.stopIngestd() == 0);
}

namespace {

// name -> label keys, from the tables of docs/metrics.md.
std::map<std::string, std::set<std::string>> documentedMetrics() {
  std::ifstream in(std::string(INGESTD_SOURCE_DIR) + "/docs/metrics.md");
  std::map<std::string, std::set<std::string>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| `", 0) != 0) {
      continue;
    }
    std::vector<std::string> cells;
    std::size_t pos = 1;
    while (pos < line.size()) {
      auto bar = line.find('|', pos);
      if (bar == std::string::npos) {
        break;
      }
      cells.push_back(line.substr(pos, bar - pos));
      pos = bar + 1;
    }
    REQUIRE(cells.size() >= 4);
    auto name = cells[0].substr(cells[0].find('`') + 1);
    name = name.substr(0, name.find('`'));
    std::set<std::string> labels;
    std::string cell = cells[2];
    std::size_t start = 0;
    while (start <= cell.size()) {
      auto comma = cell.find(',', start);
      std::string l =
          cell.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      l.erase(0, l.find_first_not_of(' '));
      l.erase(l.find_last_not_of(' ') + 1);
      if (!l.empty()) {
        labels.insert(l);
      }
      if (comma == std::string::npos) {
        break;
      }
      start = comma + 1;
    }
    out[name] = labels;
  }
  return out;
}

// name -> label keys of every family served, from `# TYPE` lines and samples.
std::map<std::string, std::set<std::string>> servedMetrics(const std::string& text) {
  std::map<std::string, std::set<std::string>> out;
  std::map<std::string, std::string> types;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      auto rest = line.substr(7);
      auto sp = rest.find(' ');
      types[rest.substr(0, sp)] = rest.substr(sp + 1);
      out[rest.substr(0, sp)];
      continue;
    }
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::string name = line.substr(0, line.find_first_of("{ "));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string base = name.substr(0, name.size() - std::strlen(suffix));
      if (name.size() > std::strlen(suffix) && name.ends_with(suffix) &&
          types[base] == "histogram") {
        name = base;
      }
    }
    auto& labels = out[name];
    auto open = line.find('{');
    if (open == std::string::npos || open > line.find(' ')) {
      continue;
    }
    auto close = line.find('}', open);
    std::string body = line.substr(open + 1, close - open - 1);
    std::size_t p = 0;
    while (p < body.size()) {
      auto eq = body.find('=', p);
      std::string key = body.substr(p, eq - p);
      if (key != "le") {
        labels.insert(key);
      }
      auto q = body.find('"', eq + 2);
      while (q != std::string::npos && body[q - 1] == '\\') {
        q = body.find('"', q + 1);
      }
      p = q + 2;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("metrics served by the daemon are exactly the documented ones") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 200);
  // A tail and a socket input: each input type's metrics are served once it exists.
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log) +
                               "  - name: net\n    type: tcp\n    listen: 127.0.0.1:0\n",
                           h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Events", 200, 30s));
  const auto text =
      httpRequest("GET", fmt::format("http://127.0.0.1:{}/metrics", h.metricsPort())).body;
  const auto served = servedMetrics(text);
  const auto documented = documentedMetrics();
  REQUIRE(documented.size() > 20);
  // CAPTURE and the _MESSAGE macros capture `name` in a lambda, which clang 14 does not allow
  // for a structured binding: name the key as a plain reference.
  for (const auto& entry : served) {
    const auto& name = entry.first;
    const auto& labels = entry.second;
    CAPTURE(name);
    REQUIRE_MESSAGE(documented.contains(name), "served but not in docs/metrics.md: ", name);
    CHECK(documented.at(name) == labels);
  }
  for (const auto& entry : documented) {
    const auto& name = entry.first;
    CHECK_MESSAGE(served.contains(name), "documented but not served: ", name);
  }
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("an outage with real nginx lines keeps RSS within memory_limit + 32 MiB, then drains") {
  // Real logs compress 6-10x: a budget that releases raw bytes while they stay resident looks
  // fine with random letters and not with these (issue 7).
  IngestdHarness h({"--discard"});
  h.kusto().setFaults({{"error_503", 1.0}});
  const std::string log = h.dir().file("access.log");
  [[maybe_unused]] const std::uint64_t limit = 32ull << 20;  // checked in release builds
  std::uint64_t lines = 0;
  {
    ingestd::bench::NginxLogGenerator gen(7);
    std::ofstream out(log, std::ios::binary);
    std::string buf;
    std::uint64_t written = 0;
    while (written < (300ull << 20)) {  // more than the budget holds, even compressed
      buf.clear();
      while (buf.size() < (1u << 20)) {
        gen.appendLine(buf);
        ++lines;
      }
      out << buf;
      written += buf.size();
    }
  }
  auto cfg = h.writeConfig(IngestdHarness::tailInput("nginx", log),
                           h.kustoOutput("adx", "Access", "*", "", "{ max_delay: 200ms }"),
                           "  memory_limit: 32MiB\n");
  REQUIRE(h.startIngestd(cfg));
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t peak_rss = 0;
  std::uint64_t late_min = UINT64_MAX;
  std::uint64_t late_max = 0;
  waitFor(
      [&] {
        const std::uint64_t rss = h.ingestdRss();
        peak_rss = std::max(peak_rss, rss);
        if (std::chrono::steady_clock::now() - start > 10s) {
          late_min = std::min(late_min, rss);
          late_max = std::max(late_max, rss);
        }
        return std::chrono::steady_clock::now() - start > 20s;
      },
      30s, 200ms);
  CHECK(h.metric("ingestd_input_bytes_total") < 300.0 * (1 << 20));  // paused by the budget
  MESSAGE("peak RSS ", peak_rss >> 20, " MiB, from 10 s: ", late_min >> 20, "..", late_max >> 20,
          " MiB");
#ifndef INGESTD_SANITIZED
  CHECK(peak_rss <= limit + (32ull << 20));
  CHECK(late_max - late_min <= (8ull << 20));  // flat once the budget is full
#endif
  h.kusto().setFaults(nlohmann::json::object());
  CHECK(waitFor(
      [&] { return h.metric("ingestd_output_records_total") == static_cast<double>(lines); }, 60s,
      500ms));
  CHECK(h.stopIngestd() == 0);
}
