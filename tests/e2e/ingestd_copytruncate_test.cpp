// E2E: logrotate's copytruncate while the application writes. The copy (app.log.N, a new inode
// whose first bytes equal the file's) is resumed where the file's complete lines ended, not
// read again from its head, and a partial line is never shipped cut.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include <fmt/format.h>

#include "tests/e2e/ingestd_harness.h"
#include "tests/support/wait_for.h"

using namespace std::chrono_literals;
using namespace ingestd::test;

TEST_CASE("copytruncate while writing: copies are not read again, no line is cut or lost") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 1, 120);
  auto cfg =
      h.writeConfig(IngestdHarness::tailInput("app", log + "*", "    scan_interval: 250ms\n"),
                    h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  // 2,000 lines a second in bursts of 200; copytruncate every 5,000 lines (6 rotations).
  const std::int64_t n = 30000;
  int rotation = 0;
  auto next = std::chrono::steady_clock::now();
  for (std::int64_t seq = 1; seq < n; seq += 200) {
    IngestdHarness::appendLines(log, seq, std::min(seq + 200, n), 120);
    if ((seq + 199) / 5000 != seq / 5000) {
      ++rotation;
      std::filesystem::copy_file(log, fmt::format("{}.{}", log, rotation));
      REQUIRE(::truncate(log.c_str(), 0) == 0);
    }
    next += 100ms;
    // Pace the writer by waiting on the daemon's progress clock rather than sleeping blindly.
    waitFor([&] { return std::chrono::steady_clock::now() >= next; }, 200ms, 5ms);
  }
  REQUIRE(h.waitForAll("Events", n, 60s));
  // Let late duplicates (if any) arrive before counting them.
  waitFor([] { return false; }, 2s, 100ms);
  auto a = h.arrivals("Events");
  CHECK(a.missing(n).empty());
  MESSAGE("rows ", a.rows, ", duplicates ", a.duplicates(), " of ", n);
  CHECK(a.duplicates() <= n / 20);  // at most 5%
  // Every row is a whole line: "seq=<n> " and exactly 120 'x'.
  const std::regex whole("seq=[0-9]+ x{120}");
  int cut = 0;
  for (const auto& row : h.kusto().rows(IngestdHarness::kDb, "Events | project message")) {
    cut += std::regex_match(row[0].get<std::string>(), whole) ? 0 : 1;
  }
  CHECK(cut == 0);
  CHECK(h.metric("ingestd_input_file_events_total", {"event=\"truncated_file\""}) >= 1);
  CHECK(h.stopIngestd() == 0);
}

TEST_CASE("copytruncate while the daemon is stopped: the copy resumes from the checkpoint") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 3000, 120);
  auto cfg =
      h.writeConfig(IngestdHarness::tailInput("app", log + "*"), h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Events", 3000, 30s));
  CHECK(h.stopIngestd() == 0);
  // While stopped: 500 more lines, then copytruncate, then 500 lines into the emptied file.
  IngestdHarness::appendLines(log, 3000, 3500, 120);
  std::filesystem::copy_file(log, log + ".1");
  REQUIRE(::truncate(log.c_str(), 0) == 0);
  IngestdHarness::appendLines(log, 3500, 4000, 120);
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Events", 4000, 30s));
  waitFor([] { return false; }, 1s, 100ms);
  auto a = h.arrivals("Events");
  CHECK(a.missing(4000).empty());
  CHECK(a.duplicates() == 0);
  CHECK(h.stopIngestd() == 0);
}
