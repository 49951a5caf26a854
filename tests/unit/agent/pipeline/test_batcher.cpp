// Unit tests: the Batcher — when a batch is due (max_bytes, max_records, max_delay, flush), what
// a cut takes, and the backlog it reports. A fake timer stands in for the loop.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "agent/pipeline/batcher.h"

using namespace std::chrono_literals;
using namespace ingestd;

namespace {

class FakeDelayTimer final : public DelayTimer {
 public:
  int starts = 0;
  std::chrono::milliseconds last_timeout{};

  void start(std::chrono::milliseconds timeout, std::function<void()> fn) override {
    ++starts;
    last_timeout = timeout;
    fn_ = std::move(fn);
  }
  void stop() override { fn_ = nullptr; }
  bool active() const override { return fn_ != nullptr; }
  // As a one-shot Timer does: inactive by the time its callback runs.
  void fire() {
    REQUIRE(active());
    auto fn = std::move(fn_);
    fn_ = nullptr;
    fn();
  }

 private:
  std::function<void()> fn_;
};

std::shared_ptr<ChunkTicket> ticket(std::size_t bytes, std::uint64_t records,
                                    std::chrono::steady_clock::time_point routed_at = {}) {
  auto src = std::make_shared<SourceInfo>();
  src->input = "in";
  src->tag = "app";
  src->source = "/var/log/app.log";
  RecordChunk c;
  c.source = src;
  c.data = std::string(bytes, 'a');
  c.records = records;
  auto t = std::make_shared<ChunkTicket>();
  t->chunk = std::make_shared<RecordChunk>(std::move(c));
  t->routed_at = routed_at;
  return t;
}

// txt: each record grows by one byte, plus 2% of the data for escaping; so a chunk of 100
// bytes and one record is estimated at 103 bytes.
BatcherOptions txtOptions(std::uint64_t max_bytes, std::uint64_t max_records = 0) {
  BatcherOptions o;
  o.max_bytes = max_bytes;
  o.max_records = max_records;
  o.max_delay = 250ms;
  o.format = "txt";
  o.hostname = "host1";
  return o;
}

struct Harness {
  FakeDelayTimer timer;
  int delays = 0;
  Batcher batcher;
  explicit Harness(BatcherOptions o) : batcher(std::move(o), timer, [this] { ++delays; }) {}
};

}  // namespace

TEST_CASE("batcher: estimated encoded size per format") {
  auto t = ticket(1000, 10);
  const RecordChunk& c = *t->chunk;
  // tag "app" (3) + host "host1" (5) + source "/var/log/app.log" (16) = 24 per record
  CHECK(estimateEncodedBytes("txt", "host1", c) == 1000 + 20 + 10 * 1);
  CHECK(estimateEncodedBytes("csv", "host1", c) == 1000 + 20 + 10 * (30 + 24));
  CHECK(estimateEncodedBytes("tsv", "host1", c) == 1000 + 20 + 10 * (30 + 24));
  CHECK(estimateEncodedBytes("multijson", "host1", c) == 1000 + 20 + 10 * (80 + 24));
  CHECK(estimateEncodedBytes("json", "host1", c) == 1000 + 20 + 10 * (80 + 24));
}

TEST_CASE("batcher: the first chunk arms max_delay once, and the delay makes the batch due") {
  Harness h(txtOptions(1 << 20));
  CHECK_FALSE(h.batcher.due());
  CHECK_FALSE(h.timer.active());
  h.batcher.push(ticket(100, 1));
  CHECK(h.timer.starts == 1);
  CHECK(h.timer.last_timeout == 250ms);
  h.batcher.push(ticket(100, 1));
  CHECK(h.timer.starts == 1);  // still the first chunk's deadline
  CHECK_FALSE(h.batcher.due());
  h.timer.fire();
  CHECK(h.delays == 1);
  CHECK(h.batcher.due());
  // A chunk pushed once the delay passed joins the batch that is due (and arms the timer).
  h.batcher.push(ticket(100, 1));
  CHECK(h.batcher.due());
  CHECK(h.timer.starts == 2);
  Batch b = h.batcher.cut("b1");
  CHECK(b.tickets.size() == 3);
  CHECK(h.batcher.empty());
  CHECK_FALSE(h.batcher.due());
  CHECK_FALSE(h.timer.active());  // nothing pending: no deadline
  h.batcher.push(ticket(100, 1));
  CHECK_FALSE(h.batcher.due());  // a fresh batch waits for its own delay
  CHECK(h.timer.active());
}

TEST_CASE("batcher: due at max_bytes less a sixteenth, and a cut stays within max_bytes") {
  Harness h(txtOptions(1000));  // due from 1000 - 62 = 938 estimated bytes
  for (int i = 0; i < 9; ++i) {
    h.batcher.push(ticket(100, 1));  // 103 each
  }
  CHECK(h.batcher.estimate() == 927);
  CHECK_FALSE(h.batcher.due());
  h.batcher.push(ticket(100, 1));
  CHECK(h.batcher.due());
  Batch b = h.batcher.cut("b1");
  CHECK(b.id == "b1");
  CHECK(b.tickets.size() == 9);  // a tenth would make 1030 > 1000
  CHECK(b.estimate == 927);
  CHECK(b.records == 9);
  CHECK(h.batcher.estimate() == 103);
  CHECK_FALSE(h.batcher.due());
  CHECK(h.timer.active());  // the rest still waits for max_delay
}

TEST_CASE("batcher: due at max_records, and a cut takes at most max_records") {
  Harness h(txtOptions(1 << 20, 10));
  h.batcher.push(ticket(10, 4));
  h.batcher.push(ticket(10, 4));
  CHECK_FALSE(h.batcher.due());
  h.batcher.push(ticket(10, 4));
  CHECK(h.batcher.due());
  Batch b = h.batcher.cut("b1");
  CHECK(b.records == 8);
  CHECK(h.batcher.records() == 4);
  CHECK_FALSE(h.batcher.due());
}

TEST_CASE("batcher: a chunk larger than a batch is cut on its own") {
  Harness h(txtOptions(1000));
  h.batcher.push(ticket(5000, 1));
  h.batcher.push(ticket(100, 1));
  REQUIRE(h.batcher.due());
  Batch b = h.batcher.cut("big");
  REQUIRE(b.tickets.size() == 1);
  CHECK(b.tickets[0]->chunk->data.size() == 5000);
  CHECK(b.estimate == 5000 + 100 + 1);
  CHECK(h.batcher.bytes() == 100);
}

TEST_CASE("batcher: flush makes what is pending due until it is all cut") {
  Harness h(txtOptions(1000));
  h.batcher.flush();  // nothing pending: no effect on what comes next
  h.batcher.push(ticket(100, 1));
  CHECK_FALSE(h.batcher.due());
  for (int i = 0; i < 14; ++i) {
    h.batcher.push(ticket(100, 1));
  }
  h.batcher.flush();
  REQUIRE(h.batcher.due());
  CHECK(h.batcher.cut("b1").tickets.size() == 9);
  REQUIRE(h.batcher.due());  // the rest (6 chunks, below max_bytes) is still flushed
  CHECK(h.batcher.cut("b2").tickets.size() == 6);
  CHECK_FALSE(h.batcher.due());
  h.batcher.push(ticket(100, 1));
  CHECK_FALSE(h.batcher.due());
}

TEST_CASE("batcher: backlog and the oldest pending chunk follow pushes and cuts") {
  Harness h(txtOptions(250));
  const auto t0 = std::chrono::steady_clock::time_point{} + 10s;
  CHECK_FALSE(h.batcher.oldestRoutedAt().has_value());
  h.batcher.push(ticket(100, 2, t0 + 2s));
  h.batcher.push(ticket(100, 3, t0 + 1s));  // routed out of order: the batch takes the earliest
  h.batcher.push(ticket(50, 1, t0 + 3s));
  CHECK(h.batcher.bytes() == 250);
  CHECK(h.batcher.records() == 6);
  CHECK(h.batcher.oldestRoutedAt() == t0 + 2s);  // the first pushed
  h.batcher.flush();
  Batch b = h.batcher.cut("b1");
  CHECK(b.tickets.size() == 2);
  CHECK(b.oldest == t0 + 1s);
  CHECK(h.batcher.bytes() == 50);
  CHECK(h.batcher.records() == 1);
  CHECK(h.batcher.oldestRoutedAt() == t0 + 3s);
}
