// OutputRunner: everything between the router and one Output: batching chunks into encode
// jobs on the worker pool, the queue of blocks to send, `concurrency` sends in flight, retries
// with backoff, dead-lettering, and acknowledgements back to the chunks. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "agent/config/settings.h"
#include "agent/core/log.h"
#include "agent/loop/loop.h"
#include "agent/loop/worker_pool.h"
#include "agent/metrics/metrics.h"
#include "agent/pipeline/backoff.h"
#include "agent/pipeline/deadletter.h"
#include "agent/pipeline/memory_budget.h"
#include "agent/plugin/payload.h"
#include "agent/plugin/plugin.h"
#include "agent/plugin/record.h"

namespace ingestd {

// Shared between the outputs a chunk was routed to: the chunk is acknowledged when the last of
// them is done with it. Its records (chunk) are dropped once every output has encoded them:
// what waits for the acknowledgement is on_ack (a few bytes of positions), never the data.
struct ChunkTicket {
  std::shared_ptr<const RecordChunk> chunk;  // null once every output has encoded it
  std::function<void()> on_ack;              // the chunk's on_ack, moved here by the router
  std::uint32_t outputs_left = 0;            // outputs that have not acknowledged it yet
  std::uint32_t encodes_left = 0;            // outputs that still hold its raw bytes
  std::uint64_t charged_bytes = 0;           // held against the memory budget until encoded
  bool failed = false;                       // some records were dead-lettered, not delivered
  bool parse_errors_counted = false;         // the first output to find parse errors counts them
  std::chrono::steady_clock::time_point routed_at{};
};

// Whether an output is delivering, for /readyz; reason says why not, in one sentence.
struct OutputReadiness {
  bool ready = true;
  std::string reason;
};

struct OutputRunnerOptions {
  std::string name;         // output instance name
  std::string destination;  // "db.table", for logs and dead-letter files
  OutputPipelineSettings settings;
  std::string format;  // encoder format name
  std::vector<std::string> columns;
  std::string hostname;
  std::uint64_t seed = 0;  // jitter PRNG seed (0: random)
};

class OutputRunner {
 public:
  OutputRunner(OutputRunnerOptions options, Output& output, Loop& loop, WorkerPool& workers,
               MemoryBudget& budget, DeadLetter& deadletter, OutputMetrics& metrics, Logger& log);
  ~OutputRunner();

  // Takes a routed chunk (the ticket is shared with other outputs).
  void push(std::shared_ptr<ChunkTicket> ticket);

  // Sends an already encoded (and, if `body_is_gzip`, compressed) block, bypassing the encoder
  // (ingestd send). done(delivered) runs once the block is delivered or dead-lettered.
  void sendPrepared(std::string body, bool body_is_gzip, std::uint64_t raw_bytes,
                    std::uint64_t records, std::function<void(bool delivered)> done);

  // Encode everything pending now instead of waiting for a full batch or max_delay.
  void flush();
  // Nothing pending, encoding, queued, in flight or waiting to retry.
  bool idle() const;
  // Stop sending new requests and drop retry timers (shutdown deadline reached). What was not
  // acknowledged stays unacknowledged: files are re-read after a restart.
  void abandon();

  // The worker pool has room again: start encode jobs that were waiting for it.
  void onWorkerCapacity();

  // Raw bytes of chunks waiting to be encoded. The pipeline pauses inputs while any output's
  // backlog is above its high mark, so fast readers do not fill memory ahead of the encoders.
  std::uint64_t backlogBytes() const { return pending_bytes_; }
  bool backlogged() const { return pending_bytes_ >= backlogHigh(); }
  bool backlogLow() const { return pending_bytes_ < backlogHigh() / 2; }
  // A block that must go to the dead-letter directory could not be written there (not a
  // directory, disk full, ...): it is kept and written again with backoff, and the pipeline
  // pauses inputs until it is stored.
  bool stalled() const { return dl_waiting_ > 0; }
  // Called (posted, on the loop) when backlogged(), backlogLow() or stalled() may have changed.
  void setOnPressureChange(std::function<void()> fn) { on_pressure_ = std::move(fn); }

  std::uint64_t queuedBlocks() const { return ready_.size() + waiting_retry_; }
  std::uint64_t inFlight() const { return in_flight_; }

  // Not ready while a dead letter cannot be written, or while data is pending and no block
  // was delivered for longer than retry.max (the longest wait between two attempts).
  OutputReadiness readiness(std::chrono::steady_clock::time_point now) const;
  // Age of the oldest record routed here and not yet acknowledged (0 when none).
  std::chrono::steady_clock::duration oldestUnacked(
      std::chrono::steady_clock::time_point now) const;
  // Sets the gauges that depend on time (oldest unacknowledged age). Called every second.
  void updateGauges(std::chrono::steady_clock::time_point now);

 private:
  struct Job;
  struct Block;

  void maybeStartJobs();
  void startJob();
  void onJobDone(std::shared_ptr<Job> job, struct EncodeJobResult& result);
  void pump();
  void sendBlock(std::shared_ptr<Block> block);
  void onSendOutcome(std::shared_ptr<Block> block, SendOutcome outcome,
                     std::chrono::steady_clock::time_point started);
  void scheduleRetry(std::shared_ptr<Block> block, const SendOutcome& outcome);
  void deadLetterBlock(std::shared_ptr<Block> block, std::string reason,
                       const SendOutcome& outcome);
  // Writes a dead letter; when the write fails, keeps it and tries again with backoff until it
  // is stored or the directory is full. done(stored) runs once; stored is false only when the
  // dead-letter directory is at deadletter.max_size (the records are then lost, counted).
  void storeDeadLetter(std::shared_ptr<const DeadLetterEntry> entry, unsigned attempt,
                       std::function<void(bool stored)> done);
  void notifyPressure();
  void blockFinished(const std::shared_ptr<Block>& block, bool delivered);
  void jobFinished(Job& job);
  std::uint64_t estimateEncoded(const RecordChunk& chunk) const;
  std::string newBlockId();

  OutputRunnerOptions opts_;
  Output& output_;
  Loop& loop_;
  WorkerPool& workers_;
  MemoryBudget& budget_;
  DeadLetter& deadletter_;
  OutputMetrics& metrics_;
  Logger& log_;
  std::string component_;
  BackoffPolicy backoff_;
  std::mt19937_64 rng_;
  std::uint64_t block_prefix_ = 0;
  std::uint64_t block_counter_ = 0;

  std::deque<std::shared_ptr<ChunkTicket>> pending_;
  std::uint64_t backlogHigh() const { return 4 * opts_.settings.batch_max_bytes; }

  std::uint64_t pending_estimate_ = 0;
  std::uint64_t pending_bytes_ = 0;
  std::function<void()> on_pressure_;
  std::uint64_t pending_records_ = 0;
  Timer delay_timer_;
  bool flushing_ = false;
  std::size_t encoding_ = 0;   // encode jobs on the worker pool
  std::size_t jobs_open_ = 0;  // jobs not yet fully acknowledged
  std::deque<std::shared_ptr<Block>> ready_;
  std::size_t in_flight_ = 0;
  std::size_t waiting_retry_ = 0;
  bool abandoned_ = false;
  std::map<const Block*, std::shared_ptr<Block>> retrying_;  // blocks between attempts
  std::size_t dl_writing_ = 0;                               // dead-letter writes on libuv's pool
  std::size_t dl_waiting_ = 0;  // dead letters waiting for their next write attempt
  std::map<const Timer*, std::unique_ptr<Timer>> dl_timers_;
  std::multiset<std::chrono::steady_clock::time_point> open_jobs_since_;  // oldest record of each
  std::optional<std::chrono::steady_clock::time_point> failing_since_;  // first retry since success
  std::string last_error_;
  std::shared_ptr<bool> alive_;
};

}  // namespace ingestd
