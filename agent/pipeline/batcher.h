// Batcher: collects the chunks routed to one output and cuts them into batches: a batch is due
// at batch.max_bytes (estimated encoded size), at batch.max_records, max_delay after the first
// chunk arrived, or on flush(). Pure logic; the delay timer is injected. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/loop/loop.h"
#include "agent/pipeline/chunk_ticket.h"
#include "agent/plugin/record.h"

namespace ingestd {

// The timer a Batcher uses for max_delay: LoopDelayTimer in the agent, a fake in tests.
class DelayTimer {
 public:
  virtual ~DelayTimer() = default;
  // fn runs once, timeout from now, unless stop() or start() comes first.
  virtual void start(std::chrono::milliseconds timeout, std::function<void()> fn) = 0;
  virtual void stop() = 0;
  virtual bool active() const = 0;
};

// A DelayTimer on the loop: callbacks run on the loop thread.
class LoopDelayTimer final : public DelayTimer {
 public:
  explicit LoopDelayTimer(Loop& loop) : timer_(loop) {}

  // DelayTimer
  void start(std::chrono::milliseconds timeout, std::function<void()> fn) override {
    timer_.start(timeout, std::move(fn));
  }
  void stop() override { timer_.stop(); }
  bool active() const override { return timer_.active(); }

 private:
  Timer timer_;
};

struct BatcherOptions {
  std::uint64_t max_bytes = 4ull << 20;  // batch.max_bytes, compared with estimated encoded bytes
  std::uint64_t max_records = 0;         // batch.max_records; 0 = no limit
  std::chrono::milliseconds max_delay{1000};
  std::string format;    // the encoder's format name: how much each record grows once encoded
  std::string hostname;  // written into every encoded record
};

// One batch, cut from the front of what was pending: it becomes one encode job.
struct Batch {
  // The block id, given when the batch is cut; its encoded blocks, every send attempt, the logs
  // and the dead-letter files use it (see batchPartId() in encode_stage.h).
  std::string id;
  std::vector<std::shared_ptr<ChunkTicket>> tickets;  // in the order they were pushed
  std::uint64_t estimate = 0;  // estimated encoded bytes; above max_bytes only for one big chunk
  std::uint64_t records = 0;
  std::chrono::steady_clock::time_point oldest{};  // the earliest routed_at of its tickets
  std::uint64_t waiting_after = 0;  // raw bytes still in the batcher once this one was cut
};

// Estimated size of a chunk once encoded in `format`: its bytes, a little for escaping, and the
// fields every record gets (timestamp, tag, host, source). Pure.
std::uint64_t estimateEncodedBytes(std::string_view format, std::string_view hostname,
                                   const RecordChunk& chunk);

class Batcher {
 public:
  // on_delay runs from the timer when max_delay has passed since a chunk arrived while nothing
  // was pending: due() is true from then until the batcher is empty again.
  Batcher(BatcherOptions options, DelayTimer& timer, std::function<void()> on_delay);

  // Adds a routed chunk (ticket->chunk must hold its records); arms the delay timer when it is
  // the first one pending.
  void push(std::shared_ptr<ChunkTicket> ticket);
  // What is pending is due now, whatever its size (until the batcher is empty again).
  void flush();
  // A batch should be cut now: something is pending and it fills a batch (max_bytes less 1/16,
  // or max_records), or flush() was called, or max_delay passed.
  bool due() const;
  // Takes the next batch from the front: chunks in order while they fit max_bytes and
  // max_records, and always at least one. Pending must not be empty. When nothing is left, the
  // delay timer stops and due() is false until the next flush or delay.
  Batch cut(std::string id);

  bool empty() const { return pending_.empty(); }
  std::uint64_t bytes() const { return pending_bytes_; }  // raw bytes of the pending chunks
  std::uint64_t records() const { return pending_records_; }
  std::uint64_t estimate() const { return pending_estimate_; }
  // routed_at of the first pending chunk (chunks arrive in routing order).
  std::optional<std::chrono::steady_clock::time_point> oldestRoutedAt() const;

 private:
  struct Pending {
    std::shared_ptr<ChunkTicket> ticket;
    std::uint64_t estimate = 0;
  };

  bool full() const;

  BatcherOptions opts_;
  DelayTimer& timer_;
  std::function<void()> on_delay_;
  std::deque<Pending> pending_;
  std::uint64_t pending_estimate_ = 0;
  std::uint64_t pending_bytes_ = 0;
  std::uint64_t pending_records_ = 0;
  bool flushing_ = false;  // flush() or max_delay: cut whatever is pending
};

}  // namespace ingestd
