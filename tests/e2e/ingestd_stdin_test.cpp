// End-to-end tests of the stdin input: ingestd reads a pipe (`producer | ingestd run`) or a file
// (`ingestd run < file`), and when stdin is its only input it delivers everything and exits 0 by
// itself, also through a service that fails requests for a while; next to a tail input it keeps
// running after the end of stdin.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/e2e/ingestd_harness.h"
#include "tests/support/wait_for.h"

namespace ingestd::test {
namespace {

using namespace std::chrono_literals;

const std::string kStdinInput = "  - name: in\n    type: stdin\n";

// Runs ingestd with `shell` deciding what its stdin is: `"$@"` is ingestd's command line.
bool startWithShell(IngestdHarness& h, const std::string& cfg, const std::string& shell) {
  return h.startIngestd(cfg, {"/bin/sh", "-c", shell, "sh"});
}

TEST_CASE("stdin input: a pipe's lines arrive, then ingestd exits 0 by itself") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("lines.log");
  IngestdHarness::appendLines(log, 0, 20000);
  // 503s and dropped connections for a while: the exit waits for every block, with no deadline.
  h.kusto().setFaults({{"seed", 3}, {"error_503", 0.3}, {"drop_after_store", 0.1}});
  auto cfg = h.writeConfig(kStdinInput, h.kustoOutput("adx", "Events", "*", "",
                                                      "{ max_bytes: 64KiB, max_delay: 50ms }"));
  const bool started = startWithShell(h, cfg, "cat '" + log + "' | \"$@\"");
  REQUIRE_MESSAGE(started, h.ingestd().stderrText());
  auto rc = h.ingestd().wait(90s);
  REQUIRE(rc.has_value());
  CHECK(*rc == 0);
  // The faults happened: blocks were retried before the exit.
  auto stats = h.kusto().stats();
  CHECK(stats["faults_injected"]["error_503"].get<std::int64_t>() +
            stats["faults_injected"]["drop_after_store"].get<std::int64_t>() >=
        3);
  h.kusto().setFaults(nlohmann::json::object());
  // Every row was acknowledged before the exit: no wait needed, they are there now.
  auto arrivals = h.arrivals("Events");
  CHECK(arrivals.missing(20000).empty());
  CHECK(
      h.ingestd().waitForStderrLine("Every input has finished and all it read was delivered", 1s));
  auto rows = h.kusto().rows(IngestdHarness::kDb, "Events | where source != 'stdin' | count");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == 0);
}

TEST_CASE("stdin input: a file as stdin, with a last line without its newline") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("lines.log");
  IngestdHarness::appendLines(log, 0, 3000);
  {
    std::ofstream out(log, std::ios::app);
    out << "seq=3000 the last line, no newline";
  }
  auto cfg = h.writeConfig(kStdinInput, h.kustoOutput("adx", "Events"));
  REQUIRE(startWithShell(h, cfg, "exec \"$@\" < '" + log + "'"));
  auto rc = h.ingestd().wait(60s);
  REQUIRE(rc.has_value());
  CHECK(*rc == 0);
  auto arrivals = h.arrivals("Events");
  CHECK(arrivals.missing(3001).empty());
  CHECK(arrivals.duplicates() == 0);
  CHECK(h.ingestd().waitForStderrLine("Reading standard input (a file)", 1s));
}

TEST_CASE("stdin input: next to a tail input ingestd keeps running after the end of stdin") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string piped = h.dir().file("piped.log");
  IngestdHarness::appendLines(piped, 0, 500);
  const std::string tailed = h.dir().file("tailed.log");
  IngestdHarness::appendLines(tailed, 500, 1000);
  auto cfg = h.writeConfig(kStdinInput + IngestdHarness::tailInput("files", tailed),
                           h.kustoOutput("adx", "Events"));
  REQUIRE(startWithShell(h, cfg, "exec \"$@\" < '" + piped + "'"));
  REQUIRE(h.waitForAll("Events", 1000, 30s));
  CHECK(h.ingestd().waitForStderrLine("input stdin/in: Finished", 5s));
  IngestdHarness::appendLines(tailed, 1000, 1200);
  REQUIRE(h.waitForAll("Events", 1200, 30s));
  CHECK(h.ingestd().running());
  CHECK(h.stopIngestd() == 0);
}

}  // namespace
}  // namespace ingestd::test
