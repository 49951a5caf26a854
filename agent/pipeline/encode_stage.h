// EncodeStage: runs one output's encode + gzip jobs on the worker pool, a few at a time, and
// hands the compressed blocks back on the loop thread. A chunk's raw records are freed (and
// their memory charge released) as soon as every output it was routed to has encoded them.
// Loop thread only; the jobs themselves are pure and touch no loop object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/compress/gzip_codec.h"
#include "agent/loop/worker_pool.h"
#include "agent/metrics/metrics.h"
#include "agent/pipeline/adaptive_level.h"
#include "agent/pipeline/batcher.h"
#include "agent/pipeline/encoder.h"
#include "agent/pipeline/memory_budget.h"

namespace ingestd {

struct EncodeStageOptions {
  std::string format;                // encoder format name; an unknown one encodes multijson
  std::vector<std::string> columns;  // csv/tsv columns (empty: the default ones)
  std::string hostname;
  std::uint64_t max_block_bytes = 4ull << 20;  // batch.max_bytes: the limit of one block
  std::uint64_t max_block_records = 0;         // batch.max_records; 0 = no limit
  std::string codec = "auto";   // compression.codec; one not compiled in falls back to "auto"
  int level = 1;                // compression.level
  bool adaptive_level = false;  // compression.level: adaptive (level is then unused)
};

// One block of an encoded batch: what Delivery sends.
struct EncodedPart {
  std::string id;               // batchPartId(batch id, its index)
  std::string body;             // gzip
  std::uint64_t raw_bytes = 0;  // encoded size before compression (<= max_block_bytes)
  std::uint64_t records = 0;
};

struct EncodedBatch {
  std::string id;                        // the batch's id
  std::vector<EncodedPart> blocks;       // in record order; empty when every record was rejected
  std::vector<RejectedRecord> rejected;  // records too large for any block once encoded
  std::string rejected_id;               // part id of their dead letter (when there are any)
};

// The name of part `index` of batch `batch_id`: usually a batch encodes into one block, which
// takes the batch's own name; when it needs more (records grew more than estimated when
// encoded, or some are too large and go to the dead-letter directory), the next parts are
// "<batch_id>.2", "<batch_id>.3", ... so every name still starts with the batch's. Pure.
std::string batchPartId(std::string_view batch_id, std::size_t index);

class EncodeStage {
 public:
  // Encode jobs of one output on the pool at once: more would only queue encoded blocks.
  static constexpr std::size_t kMaxJobs = 2;

  EncodeStage(const EncodeStageOptions& options, WorkerPool& workers, MemoryBudget& budget,
              OutputMetrics& metrics);

  // Another job may start: fewer than kMaxJobs are running and the pool has capacity.
  bool hasRoom() const { return running_ < kMaxJobs && workers_.hasCapacity(); }

  // Encodes and compresses the batch on the worker pool (even when !hasRoom(): callers check),
  // at the configured level or, when adaptive, at the step AdaptiveLevel picks from what waits
  // behind the batch (Batch::waiting_after) and the jobs running.
  // Its estimated encoded size is charged to the budget while the job runs: the worker holds
  // the encoded text before it compresses it. When the job is done, on the loop thread: each
  // ticket whose last output this was has its records freed and their charge released, parse
  // errors and UTF-8 repairs are counted, then done(blocks) runs, once. Nothing runs when the
  // stage was destroyed first.
  void encode(Batch&& batch, std::function<void(EncodedBatch)> done);

  // Compresses an already encoded body (ingestd send) on the worker pool; done(gzip) runs once
  // on the loop thread, unless the stage was destroyed first.
  void compress(std::string&& body, std::function<void(std::string)> done);

  // Jobs (encode or compress) submitted and not yet completed on the loop.
  std::size_t running() const { return running_; }
  bool idle() const { return running_ == 0; }

 private:
  void finishEncode(const std::vector<std::shared_ptr<ChunkTicket>>& tickets, std::uint64_t charged,
                    const EncodeStats& stats);

  EncoderOptions encoder_;
  CodecKind codec_;
  int level_;
  std::optional<AdaptiveLevel> adaptive_;  // with compression.level: adaptive
  WorkerPool& workers_;
  MemoryBudget& budget_;
  OutputMetrics& metrics_;
  std::size_t running_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // completions check it
};

}  // namespace ingestd
