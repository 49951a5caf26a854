// DeliveryStage: the sending half of one output. Keeps the queue of compressed blocks ready to
// send, at most `concurrency` sends in flight, retries with capped exponential backoff and jitter
// (honouring Retry-After, up to retry.max_elapsed), and writes what will never be delivered to
// the dead-letter directory: a failed dead-letter write keeps the block and tries again, and
// stalled() says so meanwhile. Holds each block's memory charge until the block is done.
// Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "agent/config/settings.h"
#include "agent/core/log.h"
#include "agent/loop/loop.h"
#include "agent/metrics/metrics.h"
#include "agent/pipeline/backoff.h"
#include "agent/pipeline/deadletter.h"
#include "agent/pipeline/encoder.h"
#include "agent/pipeline/memory_budget.h"
#include "agent/plugin/payload.h"
#include "agent/plugin/plugin.h"

namespace ingestd {

struct DeliveryStageOptions {
  std::string name;                 // output instance name
  std::string destination;          // "db.table", for dead-letter files
  std::string format;               // encoder format name, for dead-letter files
  OutputPipelineSettings settings;  // concurrency, retry.*, batch.max_bytes (for a log line)
};

// A compressed block handed to DeliveryStage.
struct DeliveryBlock {
  std::string id;                           // Payload::block_id of every attempt; dead-letter name
  std::shared_ptr<const std::string> body;  // gzip bytes
  std::uint64_t raw_bytes = 0;              // encoded size before compression
  std::uint64_t records = 0;
  // Counted in ingestd_buffer_bytes while held: true for blocks of routed records, false for
  // the blocks of ingestd send.
  bool buffered = true;
  // Runs once, on the loop thread: delivered true when the service acknowledged the block,
  // false when it went to the dead-letter directory (or, that directory being full, was
  // dropped and counted). Never runs for a block that abandon() stopped between attempts.
  std::function<void(bool delivered)> done;
};

class DeliveryStage {
 public:
  // rng draws the backoff jitter.
  DeliveryStage(DeliveryStageOptions options, Output& output, Loop& loop, MemoryBudget& budget,
                DeadLetter& deadletter, OutputMetrics& metrics, Logger& log, std::mt19937_64 rng);

  // Queues a block behind the others and charges its compressed size to the memory budget
  // until it is done. Sending starts at the next pump().
  void add(DeliveryBlock&& block);
  // Starts sends from the front of the queue while fewer than `concurrency` are in flight.
  void pump();

  // Records too large for any block: writes them together as raw text to the dead-letter
  // directory under `id`, counted as dropped (record_too_large) and logged. Never sent.
  // done(stored) runs once: false only when the directory is full; a failed write is kept and
  // tried again, as for blocks (stalled() meanwhile).
  void deadLetterRecords(std::string id, std::vector<RejectedRecord>&& records,
                         std::function<void(bool stored)> done);

  // Stop sending, and stop retry and dead-letter timers (the shutdown deadline was reached).
  // Sends in flight may still finish; queued blocks and blocks between attempts stay undone.
  void abandon();

  // The ready queue holds enough blocks (2 x concurrency): encoding more only waits here.
  bool backedUp() const { return ready_.size() >= opts_.settings.concurrency * 2; }
  // A dead letter could not be written and is not stored yet (waiting for, or in, its next
  // write attempt).
  bool stalled() const { return dl_failing_ > 0; }
  // Nothing queued, in flight, waiting to retry, or being written to the dead-letter
  // directory (dead letters waiting for their next write attempt do not count).
  bool idle() const;
  std::uint64_t queuedBlocks() const { return ready_.size() + waiting_retry_; }
  std::uint64_t inFlight() const { return in_flight_; }
  // When the first send failed since the last one delivered (nullopt: the last one delivered).
  std::optional<std::chrono::steady_clock::time_point> failingSince() const {
    return failing_since_;
  }
  // "<http status> <error code>" of the last transient failure (for /readyz).
  const std::string& lastError() const { return last_error_; }

  // Runs after each send outcome was handled: blocks may have left the queue (the runner may
  // encode more). Runs on the loop thread, from within the outcome's callback.
  void setOnSendDone(std::function<void()> fn) { on_send_done_ = std::move(fn); }
  // Runs (synchronously) when stalled() may have changed.
  void setOnStalledChange(std::function<void()> fn) { on_stalled_change_ = std::move(fn); }

 private:
  struct Block;

  void sendBlock(const std::shared_ptr<Block>& block);
  // block by value: the output's callback that holds it may be gone before this returns.
  void onSendOutcome(std::shared_ptr<Block> block, SendOutcome outcome,
                     std::chrono::steady_clock::time_point started);
  void onDelivered(const std::shared_ptr<Block>& block);
  void scheduleRetry(const std::shared_ptr<Block>& block, const SendOutcome& outcome);
  void deadLetterBlock(const std::shared_ptr<Block>& block, std::string reason,
                       const SendOutcome& outcome);
  // Writes a dead letter; when the write fails, keeps it and tries again with backoff until it
  // is stored or the directory is full. done(stored) runs once; stored is false only when the
  // dead-letter directory is at deadletter.max_size (the records are then lost, counted).
  void storeDeadLetter(const std::shared_ptr<const DeadLetterEntry>& entry, unsigned attempt,
                       std::function<void(bool stored)> done);
  void onDeadLetterWriteFailed(std::shared_ptr<const DeadLetterEntry> entry, unsigned attempt,
                               const Status& st, std::function<void(bool stored)> done);
  void finish(const std::shared_ptr<Block>& block, bool delivered);
  void stalledChanged();

  DeliveryStageOptions opts_;
  Output& output_;
  Loop& loop_;
  MemoryBudget& budget_;
  DeadLetter& deadletter_;
  OutputMetrics& metrics_;
  Logger& log_;
  std::string component_;
  BackoffPolicy backoff_;
  std::mt19937_64 rng_;
  std::function<void()> on_send_done_;
  std::function<void()> on_stalled_change_;

  std::deque<std::shared_ptr<Block>> ready_;
  std::size_t in_flight_ = 0;
  std::size_t waiting_retry_ = 0;
  bool abandoned_ = false;
  std::map<const Block*, std::shared_ptr<Block>> retrying_;  // blocks between attempts
  std::size_t dl_writing_ = 0;                               // dead-letter writes on libuv's pool
  std::size_t dl_failing_ = 0;  // dead letters that failed a write and are not yet stored
  std::map<const Timer*, std::unique_ptr<Timer>> dl_timers_;
  std::optional<std::chrono::steady_clock::time_point> failing_since_;  // first retry since success
  std::string last_error_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // callbacks check it
};

}  // namespace ingestd
