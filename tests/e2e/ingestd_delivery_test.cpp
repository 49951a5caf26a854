// E2E: the ingestd binary tails files into kusto-local. Every line carries a unique sequence
// number; each test checks that every number arrived and counts duplicates.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "tests/e2e/ingestd_harness.h"
#include "tests/support/http_client.h"
#include "tests/support/wait_for.h"

using namespace std::chrono_literals;
using namespace ingestd::test;

namespace {

void checkExactlyOnce(IngestdHarness& h, const std::string& table, std::int64_t n) {
  auto a = h.arrivals(table);
  auto missing = a.missing(n);
  CHECK_MESSAGE(missing.empty(), "missing ", missing.size(), " numbers, first ",
                missing.empty() ? -1 : missing.front());
  CHECK(a.duplicates() == 0);
  CHECK(a.rows == n);
}

}  // namespace

TEST_CASE("ingestd ships a file into a table, fields and metrics are right, SIGTERM exits 0") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 5000);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("adx", "Events"),
                           "  hostname: testhost\n");
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Events", 5000, 30s));
  // Lines written while running arrive too.
  IngestdHarness::appendLines(log, 5000, 8000);
  REQUIRE(h.waitForAll("Events", 8000, 30s));
  checkExactlyOnce(h, "Events", 8000);

  auto rows = h.kusto().rows(IngestdHarness::kDb, "Events | where message == 'seq=7 " +
                                                      std::string(60, 'x') +
                                                      "' | project tag, host, source, timestamp");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == "app");
  CHECK(rows[0][1] == "testhost");
  CHECK(rows[0][2] == log);
  CHECK(rows[0][3].get<std::string>().size() >= 20);  // an ISO 8601 datetime

  CHECK(waitFor([&] { return h.metric("ingestd_output_records_total") == 8000; }, 10s));
  CHECK(h.metric("ingestd_input_records_total", {"input=\"app\""}) == 8000);
  CHECK(h.metric("ingestd_output_blocks_total", {"result=\"delivered\""}) >= 1);
  CHECK(h.metric("ingestd_output_requests_total", {"code=\"200\""}) >= 1);
  CHECK(h.metric("ingestd_output_bytes_total", {"stage=\"compressed\""}) > 0);
  CHECK(h.metric("ingestd_output_bytes_total", {"stage=\"raw\""}) >
        h.metric("ingestd_output_bytes_total", {"stage=\"compressed\""}));
  auto health = httpRequest("GET", fmt::format("http://127.0.0.1:{}/healthz", h.metricsPort()));
  CHECK(health.status == 200);
  auto ready = httpRequest("GET", fmt::format("http://127.0.0.1:{}/readyz", h.metricsPort()));
  CHECK(ready.status == 200);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("ingestd retries through 429 with Retry-After, 500, 503 and dropped connections") {
  IngestdHarness h({"--seed", "7"});
  h.createTable("Events");
  h.kusto().setFaults({{"seed", 7},
                       {"throttle_429", 0.15},
                       {"retry_after_seconds", 1},
                       {"error_500", 0.1},
                       {"error_503", 0.1},
                       {"drop_before_store", 0.05},
                       {"drop_after_store", 0.05}});
  const std::string log = h.dir().file("app.log");
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log),
                           h.kustoOutput("adx", "Events", "*", "",
                                         "{ max_bytes: 64KiB, max_delay: 100ms }"));
  REQUIRE(h.startIngestd(cfg));
  const std::int64_t n = 20000;
  for (std::int64_t i = 0; i < n; i += 2000) {
    IngestdHarness::appendLines(log, i, i + 2000);
  }
  REQUIRE(h.waitForAll("Events", n, 90s));
  auto a = h.arrivals("Events");
  CHECK(a.missing(n).empty());
  // Only blocks stored before their connection was dropped come twice.
  auto stats = h.kusto().stats();
  INFO("kusto-local stats: ", stats.dump());
  CHECK(h.metric("ingestd_output_retries_total") > 0);
  CHECK(h.metric("ingestd_output_requests_total", {"code=\"429\""}) > 0);
  CHECK(h.metric("ingestd_output_requests_total", {"code=\"500\""}) +
            h.metric("ingestd_output_requests_total", {"code=\"503\""}) >
        0);
  // Duplicates come only from blocks stored before their connection was dropped: at most one
  // block (64 KiB, so well under 655 records of 100+ bytes) per such fault.
  const auto dropped_after = stats["faults_injected"]["drop_after_store"].get<std::int64_t>();
  CHECK(a.duplicates() <= dropped_after * (64 * 1024 / 100));
  MESSAGE("duplicates: ", a.duplicates(), " of ", a.rows, " rows");
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("ingestd loses nothing across two kill -9 and restarts while shipping") {
  IngestdHarness h;
  h.createTable("Events");
  h.kusto().setFaults({{"latency_ms", 30}});
  const std::string log = h.dir().file("app.log");
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log),
                           h.kustoOutput("adx", "Events", "*", "",
                                         "{ max_bytes: 32KiB, max_delay: 50ms }"));
  const std::int64_t per_round = 15000;
  std::int64_t written = 0;
  for (int round = 0; round < 3; ++round) {
    IngestdHarness::appendLines(h.dir().file("app.log"), written, written + per_round);
    written += per_round;
    REQUIRE(h.startIngestd(cfg));
    if (round < 2) {
      // Kill in the middle of shipping: some, not all, of this round has arrived.
      REQUIRE(waitFor(
          [&] {
            return h.kusto().count(IngestdHarness::kDb, "Events") > written - per_round + 1000;
          },
          30s, 5ms));
      h.killIngestd();
    }
  }
  REQUIRE(h.waitForAll("Events", written, 60s));
  auto a = h.arrivals("Events");
  CHECK(a.missing(written).empty());
  // Only what was in flight or acknowledged-but-not-checkpointed at the kills comes twice.
  MESSAGE("duplicates after two kill -9: ", a.duplicates());
  CHECK(a.duplicates() < 2 * 20000);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("ingestd reads a file rotated by rename to its end while lines keep coming") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 1);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  std::int64_t seq = 1;
  // 8 rotations. Before each, the writer lets ingestd catch up with the first half of the
  // burst, then writes the second half and renames at once: the rotated file always has
  // unread lines when it is renamed away.
  for (int rotation = 0; rotation < 8; ++rotation) {
    IngestdHarness::appendLines(log, seq, seq + 1500);
    seq += 1500;
    REQUIRE(waitFor([&] { return h.metric("ingestd_input_records_total") >= seq; }, 20s, 5ms));
    IngestdHarness::appendLines(log, seq, seq + 1500);
    seq += 1500;
    const std::string rotated = log + "." + std::to_string(rotation + 1);
    REQUIRE(std::rename(log.c_str(), rotated.c_str()) == 0);
  }
  IngestdHarness::appendLines(log, seq, seq + 100);
  seq += 100;
  REQUIRE(h.waitForAll("Events", seq, 60s));
  checkExactlyOnce(h, "Events", seq);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("ingestd starts over after copytruncate and counts it") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 3000);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Events", 3000, 30s));
  // copytruncate: copy away, truncate in place, keep writing (fewer bytes than before).
  std::filesystem::copy_file(log, log + ".1");
  REQUIRE(::truncate(log.c_str(), 0) == 0);
  IngestdHarness::appendLines(log, 3000, 3500);
  REQUIRE(h.waitForAll("Events", 3500, 30s));
  checkExactlyOnce(h, "Events", 3500);
  CHECK(waitFor(
      [&] {
        return h.metric("ingestd_input_file_events_total", {"event=\"truncated_file\""}) >= 1;
      },
      10s));
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("a permanent error on one table dead-letters its blocks while another flows") {
  IngestdHarness h;
  h.createTable("Good");
  h.createTable("Bad");
  h.kusto().setFaults({{"fail_tables", {std::string(IngestdHarness::kDb) + ".Bad"}}});
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 4000);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log),
                           h.kustoOutput("good", "Good") + h.kustoOutput("bad", "Bad"));
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Good", 4000, 30s));
  checkExactlyOnce(h, "Good", 4000);
  CHECK(h.kusto().count(IngestdHarness::kDb, "Bad") == 0);
  CHECK(waitFor(
      [&] { return h.metric("ingestd_output_deadletter_blocks_total", {"output=\"bad\""}) >= 1; },
      10s));
  CHECK(h.metric("ingestd_output_dropped_records_total",
                 {"output=\"bad\"", "reason=\"rejected\""}) == 4000);
  CHECK(h.metric("ingestd_output_retries_total", {"output=\"bad\""}) == 0);
  // The dead-letter directory holds the data and a JSON file saying why.
  int json_files = 0;
  for (auto& e : std::filesystem::directory_iterator(h.dir().file("state/deadletter"))) {
    if (e.path().extension() == ".json") {
      ++json_files;
    }
  }
  CHECK(json_files >= 1);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("graceful shutdown waits for blocks in flight") {
  IngestdHarness h;
  h.createTable("Events");
  h.kusto().setFaults({{"latency_ms", 1500}});
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 2000);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  // Wait until a request is on the wire (kusto-local holds it 1.5 s), then ask to stop.
  REQUIRE(waitFor([&] { return h.metric("ingestd_output_requests_in_flight") >= 1; }, 10s, 5ms));
  CHECK(h.kusto().count(IngestdHarness::kDb, "Events") == 0);
  CHECK(h.stopIngestd(20s) == 0);
  CHECK(h.kusto().count(IngestdHarness::kDb, "Events") == 2000);
}

TEST_CASE("ingestd send ships a plain and a .gz file") {
  IngestdHarness h;
  h.kusto().createTableWithStreaming(IngestdHarness::kDb, "Raw", "(line:string)");
  std::string plain;
  for (int i = 0; i < 30000; ++i) {
    plain += fmt::format("line number {} {}\n", i, std::string(100, 'y'));
  }
  const std::string f1 = h.dir().file("a.txt");
  const std::string f2 = h.dir().file("b.txt.gz");
  {
    std::FILE* f = std::fopen(f1.c_str(), "wb");
    std::fwrite(plain.data(), 1, plain.size(), f);
    std::fclose(f);
    std::string small = plain.substr(0, std::size_t{100} * 1000);
    small.resize(small.rfind('\n') + 1);
    std::string gz = gzipCompress(small);
    f = std::fopen(f2.c_str(), "wb");
    std::fwrite(gz.data(), 1, gz.size(), f);
    std::fclose(f);
  }
  const std::int64_t small_lines = [&] {
    std::string s = plain.substr(0, std::size_t{100} * 1000);
    return static_cast<std::int64_t>(
        std::count(s.begin(), s.begin() + static_cast<long>(s.rfind('\n') + 1), '\n'));
  }();
  auto cfg = h.writeConfig(
      "", fmt::format(
              "  - name: raw\n    type: kusto\n    cluster: {}\n    database: {}\n    table: Raw\n"
              "    format: txt\n    auth: {{ method: none }}\n",
              h.kusto().url(), IngestdHarness::kDb));
  Process send({binPath("ingestd"), "send", "-c", cfg, "--output", "raw", f1, f2});
  auto rc = send.wait(60s);
  INFO(send.stderrText());
  REQUIRE(rc == 0);
  CHECK(h.kusto().count(IngestdHarness::kDb, "Raw") == 30000 + small_lines);
}

TEST_CASE("a service outage longer than a minute keeps memory under the limit, then recovers") {
  IngestdHarness h;
  h.createTable("Events");
  h.kusto().setFaults({{"error_503", 1.0}});
  const std::string log = h.dir().file("app.log");
  const std::uint64_t limit = 16ull << 20;
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log),
                           h.kustoOutput("adx", "Events", "*", "",
                                         "{ max_bytes: 1MiB, max_delay: 200ms }"),
                           "  memory_limit: 16MiB\n");
  REQUIRE(h.startIngestd(cfg));
  // 80k lines of 400 pseudo-random letters: 33 MB of log, about 20 MB once compressed, more
  // than the budget can hold while nothing is acknowledged.
  const std::int64_t n = 80000;
  for (std::int64_t i = 0; i < n; i += 10000) {
    IngestdHarness::appendLines(log, i, i + 10000, 400, true);
  }
  const auto outage_start = std::chrono::steady_clock::now();
  std::uint64_t peak_rss = 0;
  double peak_budget = 0;
  // Sample memory through the outage (65 s): the budget is full, inputs are paused.
  waitFor(
      [&] {
        peak_rss = std::max(peak_rss, h.ingestdRss());
        peak_budget = std::max(peak_budget, h.metric("ingestd_memory_budget_used_bytes"));
        return std::chrono::steady_clock::now() - outage_start > 65s;
      },
      80s, 500ms);
  CHECK(h.metric("ingestd_input_records_total") < n);  // reading paused: the file was not all read
  CHECK(h.metric("ingestd_output_retries_total") > 10);
  CHECK(h.kusto().count(IngestdHarness::kDb, "Events") == 0);
  MESSAGE("peak budget ", peak_budget / 1048576, " MiB, peak RSS ", peak_rss / 1048576, " MiB");
  // The budget may overshoot by what one read or one encode job adds after it filled.
  CHECK(peak_budget <= static_cast<double>(limit + (6ull << 20)));
#ifndef INGESTD_SANITIZED
  CHECK(peak_rss < limit + (80ull << 20));
#else
  // ASan's quarantine and shadow memory inflate RSS several times; the budget above is the
  // bound checked in sanitizer builds, RSS is checked in the release build.
  CHECK(peak_rss < limit + (1024ull << 20));
#endif
  h.kusto().setFaults(nlohmann::json::object());
  REQUIRE(h.waitForAll("Events", n, 90s));
  auto a = h.arrivals("Events");
  CHECK(a.missing(n).empty());
  CHECK(a.duplicates() == 0);
  // Time spent paused by backpressure is counted once reading resumed (most of the outage).
  CHECK(h.metric("ingestd_input_paused_seconds_total", {"input=\"app\""}) > 30);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("tail multiline: stack traces arrive as whole rows, across a kill -9 and a restart") {
  IngestdHarness h;
  h.createTable("Events");
  h.kusto().setFaults({{"latency_ms", 20}});
  const std::string log = h.dir().file("app.log");
  // Every 4th entry is an error with a 3-line stack trace after it.
  auto write = [&](int from, int to) {
    std::ofstream out(log, std::ios::app);
    for (int i = from; i < to; ++i) {
      out << fmt::format("seq={} entry {}\n", i, i % 4 == 0 ? "ERROR failed" : "INFO ok");
      if (i % 4 == 0) {
        out << "java.lang.IllegalStateException: boom " << i << "\n\tat a.B.c(B.java:" << i
            << ")\n\tat a.B.main(B.java:1)\n";
      }
    }
  };
  auto cfg = h.writeConfig(
      IngestdHarness::tailInput("app", log, "    multiline: { start: '^seq=', timeout: 300ms }\n"),
      h.kustoOutput("adx", "Events", "*", "", "{ max_bytes: 16KiB, max_delay: 50ms }"));
  write(0, 4000);
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(waitFor([&] { return h.kusto().count(IngestdHarness::kDb, "Events") > 500; }, 30s, 5ms));
  h.killIngestd();
  write(4000, 6000);
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Events", 6000, 60s));
  // No row is a piece of a trace; every trace row holds all of its lines.
  const auto rows = h.kusto().count(IngestdHarness::kDb, "Events");
  CHECK(h.kusto().count(IngestdHarness::kDb, "Events | where message startswith 'seq='") == rows);
  const auto errors = h.kusto().count(IngestdHarness::kDb, "Events | where message has 'ERROR'");
  CHECK(errors >= 1500);
  CHECK(h.kusto().count(IngestdHarness::kDb,
                        "Events | where message has 'ERROR' | where message has 'B.main' | where "
                        "message has 'IllegalStateException'") == errors);
  auto row = h.kusto().rows(IngestdHarness::kDb,
                            "Events | where message startswith 'seq=4000 ' | project message");
  REQUIRE(!row.empty());
  CHECK(row[0][0] ==
        "seq=4000 entry ERROR failed\njava.lang.IllegalStateException: boom 4000\n\tat "
        "a.B.c(B.java:4000)\n\tat a.B.main(B.java:1)");
  // Only whole records were acknowledged, so a restart sends records again, never parts.
  auto a = h.arrivals("Events");
  MESSAGE("duplicates after kill -9: ", a.duplicates());
  CHECK(a.missing(6000).empty());
  CHECK(h.stopIngestd() == 0);
}
