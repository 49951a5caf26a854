// E2E: the status server (metrics port) of the ingestd binary: idle connections do not keep the
// process alive after SIGTERM (issue 6, item 4), and /metrics carries build and process metrics.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>

#include <fstream>
#include <string>

#include "tests/e2e/ingestd_harness.h"
#include "tests/support/http_client.h"
#include "tests/support/raw_socket.h"
#include "tests/support/wait_for.h"

using namespace std::chrono_literals;
using namespace ingestd::test;

TEST_CASE("ingestd exits 0 soon after SIGTERM with idle connections open to the metrics port") {
  IngestdHarness h;
  h.createTable("Events");
  const std::string log = h.dir().file("app.log");
  IngestdHarness::appendLines(log, 0, 100);
  auto cfg = h.writeConfig(IngestdHarness::tailInput("app", log), h.kustoOutput("adx", "Events"));
  REQUIRE(h.startIngestd(cfg));
  REQUIRE(h.waitForAll("Events", 100, 30s));

  // One connection that never sends a byte, one half-sent request head.
  RawSocket silent(h.metricsPort());
  RawSocket partial(h.metricsPort());
  REQUIRE(partial.send("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
  // Connections are accepted in order: once a later one is answered, both are in the server.
  auto health = httpRequest("GET", fmt::format("http://127.0.0.1:{}/healthz", h.metricsPort()));
  REQUIRE(health.status == 200);
  CHECK(h.metric("process_open_fds") >= 3);
  CHECK(h.metric("ingestd_build_info") == 1);

  h.ingestd().signal(SIGTERM);
  const auto rc = h.ingestd().wait(5s);
  CHECK_MESSAGE(rc.has_value(), "ingestd still running 5 s after SIGTERM");
  CHECK(rc == 0);
  CHECK(waitFor([&] { return silent.closedByPeer() && partial.closedByPeer(); }, 2s));
}

TEST_CASE("the systemd unit raises the open-file limit above the default 1024") {
  std::ifstream unit(std::string(INGESTD_SOURCE_DIR) + "/systemd/ingestd.service");
  REQUIRE(unit.good());
  std::string line;
  long limit = 0;
  while (std::getline(unit, line)) {
    if (line.rfind("LimitNOFILE=", 0) == 0) {
      limit = std::stol(line.substr(12));
    }
  }
  CHECK(limit >= 65536);
}
