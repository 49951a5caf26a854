// LagMonitor on a real loop: a callback that keeps
// the loop busy for 60 ms is reported as a stall of about that long.
#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include "agent/loop/lag_monitor.h"
#include "tests/support/loop_wait.h"

using namespace std::chrono_literals;
using ingestd::LagMonitor;
using ingestd::Loop;
using ingestd::tickLag;

TEST_CASE("lag monitor: tickLag is the time past the interval, never negative") {
  CHECK(tickLag(1000, 1000 + 100'000'000, 100ms) == 0ns);
  CHECK(tickLag(1000, 1000 + 130'000'000, 100ms) == 30ms);
  CHECK(tickLag(1000, 1000 + 50'000'000, 100ms) == 0ns);
  CHECK(tickLag(5000, 1000, 100ms) == 0ns);
}

TEST_CASE("lag monitor: a callback that keeps the loop busy is reported as a stall") {
  Loop loop;
  std::vector<std::chrono::nanoseconds> observed;
  std::vector<std::chrono::nanoseconds> stalls;
  {
    LagMonitor monitor(
        loop, 20ms, 25ms, [&](std::chrono::nanoseconds l) { observed.push_back(l); },
        [&](std::chrono::nanoseconds l) { stalls.push_back(l); });
    monitor.start();
    REQUIRE(ingestd::test::runLoopUntil(
        loop, [&] { return observed.size() >= 5; }, 5s));
    const std::size_t quiet_stalls = stalls.size();
    // Keep the loop busy for 60 ms in one callback (what a blocking read would do).
    loop.post([] {
      const auto until = std::chrono::steady_clock::now() + 60ms;
      while (std::chrono::steady_clock::now() < until) {
      }
    });
    REQUIRE(ingestd::test::runLoopUntil(
        loop, [&] { return stalls.size() > quiet_stalls; }, 5s));
    CHECK(stalls.back() >= 30ms);
    CHECK(stalls.back() < 2s);
    monitor.stop();
  }
  CHECK(loop.shutdown() == 0);
}
