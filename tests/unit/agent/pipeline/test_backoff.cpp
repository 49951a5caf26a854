// Unit tests: retry delays (full jitter, caps, Retry-After) and the memory budget hysteresis.
#include <doctest/doctest.h>

#include "agent/pipeline/backoff.h"
#include "agent/pipeline/memory_budget.h"
#include "agent/pipeline/pipeline.h"

using namespace std::chrono_literals;
using ingestd::BackoffPolicy;

TEST_CASE("backoff ceiling doubles from initial and stops at max") {
  BackoffPolicy p{1000ms, 60000ms};
  CHECK(ingestd::backoffCeiling(p, 0) == 1000ms);
  CHECK(ingestd::backoffCeiling(p, 1) == 2000ms);
  CHECK(ingestd::backoffCeiling(p, 5) == 32000ms);
  CHECK(ingestd::backoffCeiling(p, 6) == 60000ms);
  CHECK(ingestd::backoffCeiling(p, 1000) == 60000ms);
}

TEST_CASE("full jitter stays within [0, ceiling] and spreads") {
  BackoffPolicy p{1000ms, 60000ms};
  std::mt19937_64 rng(42);
  for (std::uint32_t retry = 0; retry < 10; ++retry) {
    auto ceiling = ingestd::backoffCeiling(p, retry);
    std::int64_t lo = ceiling.count();
    std::int64_t hi = 0;
    for (int i = 0; i < 500; ++i) {
      auto d = ingestd::backoffDelay(p, retry, std::nullopt, rng);
      REQUIRE(d >= 0ms);
      REQUIRE(d <= ceiling);
      lo = std::min<std::int64_t>(lo, d.count());
      hi = std::max<std::int64_t>(hi, d.count());
    }
    // Full jitter: the samples cover most of the range.
    CHECK(lo < ceiling.count() / 4);
    CHECK(hi > ceiling.count() * 3 / 4);
  }
}

TEST_CASE("Retry-After is honoured, capped at the policy maximum") {
  BackoffPolicy p{1000ms, 60000ms};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100; ++i) {
    auto d = ingestd::backoffDelay(p, 0, 5000ms, rng);
    CHECK(d >= 5000ms);
    CHECK(d <= 5500ms);
    auto capped = ingestd::backoffDelay(p, 0, 3600000ms, rng);
    CHECK(capped >= 60000ms);
    CHECK(capped <= 61000ms);
  }
  CHECK(ingestd::backoffDelay(p, 3, 0ms, rng) == 0ms);
}

TEST_CASE("memory budget signals full at the limit and space below the resume mark") {
  ingestd::MemoryBudget b(1000, 0.75);
  ingestd::Backpressure pressure;
  int full = 0;
  int space = 0;
  pressure.setListener([&](bool hold) { ++(hold ? full : space); });
  b.reportTo(pressure);
  b.acquire(600);
  CHECK(full == 0);
  b.acquire(400);
  CHECK(full == 1);
  CHECK(b.full());
  b.acquire(100);
  CHECK(full == 1);  // fires once per crossing
  b.release(300);    // 800: still above 750
  CHECK(space == 0);
  b.release(100);  // 700
  CHECK(space == 1);
  CHECK_FALSE(b.full());
  CHECK(b.peak() == 1100);
  b.release(5000);  // never below zero
  CHECK(b.used() == 0);
}

TEST_CASE("tag globs") {
  CHECK(ingestd::tagMatches("*", "anything"));
  CHECK(ingestd::tagMatches("nginx.*", "nginx.access"));
  CHECK_FALSE(ingestd::tagMatches("nginx.*", "nginx"));
  CHECK(ingestd::tagMatches("app", "app"));
  CHECK_FALSE(ingestd::tagMatches("app", "app2"));
  CHECK(ingestd::tagMatches("a?c", "abc"));
  CHECK(ingestd::tagMatches("logs.*", "logs.a/b"));  // '/' is not special in tags
}
