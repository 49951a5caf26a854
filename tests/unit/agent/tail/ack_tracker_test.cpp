// Unit tests of AckTracker: the committed offset moves only over acknowledged prefixes.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "agent/plugin/ack_tracker.h"

namespace ingestd {

TEST_CASE("ack tracker: in-order acks") {
  AckTracker t(100);
  CHECK(t.committed() == 100);
  auto a = t.add(100, 150);
  auto b = t.add(150, 300);
  CHECK(t.end() == 300);
  CHECK(t.ack(a));
  CHECK(t.committed() == 150);
  CHECK(t.ack(b));
  CHECK(t.committed() == 300);
  CHECK(t.pending() == 0);
}

TEST_CASE("ack tracker: out-of-order acks wait for the gap") {
  AckTracker t;
  auto a = t.add(0, 10);
  auto b = t.add(10, 20);
  auto c = t.add(20, 30);
  CHECK_FALSE(t.ack(c));
  CHECK(t.committed() == 0);
  CHECK_FALSE(t.ack(b));
  CHECK(t.committed() == 0);
  CHECK(t.ack(a));
  CHECK(t.committed() == 30);
}

TEST_CASE("ack tracker: double ack and unknown tickets are ignored") {
  AckTracker t;
  auto a = t.add(0, 10);
  auto b = t.add(10, 20);
  CHECK(t.ack(a));
  CHECK_FALSE(t.ack(a));
  CHECK(t.committed() == 10);
  CHECK_FALSE(t.ack(AckTracker::Ticket{0, 99}));
  CHECK(t.ack(b));
  CHECK(t.committed() == 20);
}

TEST_CASE("ack tracker: pre-acked ranges commit behind earlier ranges") {
  AckTracker t;
  auto a = t.add(0, 10);
  t.addAcked(10, 500);  // dropped tail of a long line
  CHECK(t.committed() == 0);
  CHECK(t.ack(a));
  CHECK(t.committed() == 500);
  t.addAcked(500, 600);
  CHECK(t.committed() == 600);
}

TEST_CASE("ack tracker: reset starts a new generation, old tickets cannot move it") {
  AckTracker t;
  auto a = t.add(0, 1000);
  auto b = t.add(1000, 2000);
  t.reset(0);  // the file was truncated
  CHECK(t.committed() == 0);
  CHECK(t.generation() == 1);
  auto c = t.add(0, 10);
  CHECK_FALSE(t.ack(b));
  CHECK_FALSE(t.ack(a));
  CHECK(t.committed() == 0);
  CHECK(t.ack(c));
  CHECK(t.committed() == 10);
}

TEST_CASE("ack tracker: random ack order always ends fully committed") {
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    AckTracker t;
    std::vector<AckTracker::Ticket> tickets;
    std::uint64_t off = 0;
    for (int i = 0; i < 100; ++i) {
      std::uint64_t len = rng() % 1000 + 1;
      tickets.push_back(t.add(off, off + len));
      off += len;
    }
    std::shuffle(tickets.begin(), tickets.end(), rng);
    std::uint64_t last = 0;
    for (auto& tk : tickets) {
      t.ack(tk);
      CHECK(t.committed() >= last);  // monotonic
      last = t.committed();
    }
    CHECK(t.committed() == off);
  }
}

}  // namespace ingestd
