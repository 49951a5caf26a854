// OutputRunner: everything between the router and one Output, as the pipeline sees it. It
// composes three stages and follows each batch through them until it is acknowledged:
//   Batcher        routed chunks -> batches (max_bytes, max_records, max_delay, flush)
//   EncodeStage    batch -> compressed blocks, on the worker pool
//   DeliveryStage  blocks -> sends, retries, dead letters
// A batch is named when it is cut (see Batch::id), and that name follows it to the end. The
// runner owns what spans the stages: when to cut (only while encoders and the send queue have
// room), acknowledging a batch's chunks once every part of it is done, its causes of
// backpressure, readiness. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "agent/config/settings.h"
#include "agent/core/log.h"
#include "agent/loop/loop.h"
#include "agent/loop/worker_pool.h"
#include "agent/metrics/metrics.h"
#include "agent/pipeline/backpressure.h"
#include "agent/pipeline/batcher.h"
#include "agent/pipeline/chunk_ticket.h"
#include "agent/pipeline/deadletter.h"
#include "agent/pipeline/delivery_stage.h"
#include "agent/pipeline/encode_stage.h"
#include "agent/pipeline/memory_budget.h"
#include "agent/plugin/payload.h"
#include "agent/plugin/plugin.h"
#include "agent/plugin/record.h"

namespace ingestd {

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

  // Raw bytes of chunks waiting to be encoded.
  std::uint64_t backlogBytes() const { return batcher_.bytes(); }
  // A block that must go to the dead-letter directory could not be written there (not a
  // directory, disk full, ...): it is kept and written again with backoff.
  bool stalled() const { return delivery_.stalled(); }
  // Reports this output's causes to hold inputs: "backlog" while the raw bytes waiting for the
  // encoders are above 4 x batch.max_bytes (until they fall below half of that), so fast readers
  // do not fill memory ahead of the encoders; "stalled" while a dead letter cannot be stored.
  void reportTo(Backpressure& pressure);

  std::uint64_t queuedBlocks() const { return delivery_.queuedBlocks(); }
  std::uint64_t inFlight() const { return delivery_.inFlight(); }

  // Not ready while a dead letter cannot be written, or while data is pending and no block
  // was delivered for longer than retry.max (the longest wait between two attempts).
  OutputReadiness readiness(std::chrono::steady_clock::time_point now) const;
  // Age of the oldest record routed here and not yet acknowledged (0 when none).
  std::chrono::steady_clock::duration oldestUnacked(
      std::chrono::steady_clock::time_point now) const;
  // Sets the gauges that depend on time (oldest unacknowledged age). Called every second.
  void updateGauges(std::chrono::steady_clock::time_point now);

 private:
  // A batch from the moment it is cut until every chunk in it is acknowledged.
  struct Job {
    std::vector<std::shared_ptr<ChunkTicket>> tickets;
    std::size_t parts_left = 0;  // encoded blocks and dead letters not yet done
    std::multiset<std::chrono::steady_clock::time_point>::iterator since;  // in open_jobs_since_
  };

  void maybeStartJobs();
  void startJob();
  void onEncoded(const std::shared_ptr<Job>& job, EncodedBatch&& encoded);
  void partFinished(Job& job);
  void jobFinished(Job& job);
  void updatePressure();
  std::string newBlockId();
  std::uint64_t backlogHigh() const { return 4 * opts_.settings.batch_max_bytes; }

  OutputRunnerOptions opts_;
  OutputMetrics& metrics_;
  std::mt19937_64 rng_;  // seeded once: its first value names blocks, the rest is jitter
  std::uint64_t block_prefix_ = 0;
  std::uint64_t block_counter_ = 0;
  LoopDelayTimer delay_timer_;
  Batcher batcher_;
  EncodeStage encode_;
  DeliveryStage delivery_;
  bool abandoned_ = false;
  std::size_t jobs_open_ = 0;  // jobs not yet fully acknowledged
  std::multiset<std::chrono::steady_clock::time_point> open_jobs_since_;  // oldest record of each
  Backpressure* pressure_ = nullptr;
  Backpressure::CauseId backlog_cause_ = 0;
  Backpressure::CauseId stalled_cause_ = 0;
  bool backlogged_ = false;
};

}  // namespace ingestd
