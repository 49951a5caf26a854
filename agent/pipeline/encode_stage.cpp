// EncodeStage implementation (see encode_stage.h).
#include "agent/pipeline/encode_stage.h"

#include "agent/core/heap.h"

#include <span>

#include <fmt/format.h>

namespace ingestd {

namespace {

CodecKind chooseCodec(const std::string& name) {
  if (auto kind = parseCodecName(name); kind && codecAvailable(*kind)) {
    return *kind;
  }
  return fastestCodec();  // "auto"
}

EncoderOptions encoderOptions(const EncodeStageOptions& o) {
  EncoderOptions eo;
  eo.format = parseOutputFormat(o.format).value_or(OutputFormat::kMultiJson);
  eo.columns = o.columns;
  eo.hostname = o.hostname;
  eo.max_block_bytes = o.max_block_bytes;
  eo.max_block_records = o.max_block_records;
  return eo;
}

struct EncodeResult {
  EncodedBatch batch;
  EncodeStats stats;
};

// Worker thread: encodes the chunks into blocks, compresses each and names the parts. Pure.
void encodeBatch(const EncoderOptions& eo, CodecKind codec, int level,
                 std::span<const std::shared_ptr<const RecordChunk>> chunks, EncodeResult& out) {
  GzipCompressor& compressor = threadCompressor(codec, level);
  // Each block is compressed as soon as it is complete and its buffer goes back to the pool,
  // so the next block starts in warm pages (a batch of several blocks would otherwise hold
  // one buffer each, more than the pool keeps, and fault fresh ones in).
  const std::function<void(EncodedBlock &&)> on_block = [&](EncodedBlock&& b) {
    EncodedPart part;
    part.id = batchPartId(out.batch.id, out.batch.blocks.size());
    part.raw_bytes = b.data.size();
    part.records = b.records;
    compressor.compress(b.data, part.body);
    recycleBlockBuffer(std::move(b.data));
    out.batch.blocks.push_back(std::move(part));
  };
  encodeChunks(eo, chunks, on_block, out.batch.rejected, out.stats);
  if (!out.batch.rejected.empty()) {
    out.batch.rejected_id = batchPartId(out.batch.id, out.batch.blocks.size());
  }
}

}  // namespace

std::string batchPartId(std::string_view batch_id, std::size_t index) {
  if (index == 0) {
    return std::string(batch_id);
  }
  return fmt::format("{}.{}", batch_id, index + 1);
}

EncodeStage::EncodeStage(const EncodeStageOptions& options, WorkerPool& workers,
                         MemoryBudget& budget, OutputMetrics& metrics)
    : encoder_(encoderOptions(options)),
      codec_(chooseCodec(options.codec)),
      level_(options.level),
      workers_(workers),
      budget_(budget),
      metrics_(metrics) {
  if (options.adaptive_level) {
    adaptive_.emplace(AdaptiveLevel::ladderFor(options.codec));
    level_ = defaultLevel(codec_);  // ingestd send compresses at the fastest step
  }
}

void EncodeStage::encode(Batch&& batch, std::function<void(EncodedBatch)> done) {
  CodecKind codec = codec_;
  int level = level_;
  if (adaptive_) {
    const CompressionStep step =
        adaptive_->next(batch.waiting_after, encoder_.max_block_bytes, running_);
    codec = step.codec;
    level = step.level;
  }
  ++running_;
  const std::uint64_t charged = batch.estimate;
  budget_.acquire(charged);
  std::vector<std::shared_ptr<const RecordChunk>> chunks;
  chunks.reserve(batch.tickets.size());
  for (const auto& t : batch.tickets) {
    chunks.push_back(t->chunk);
  }
  auto result = std::make_shared<EncodeResult>();
  result->batch.id = std::move(batch.id);
  // The job touches only what it was given (chunks, options, result); the rest rides along to
  // the completion, which runs on the loop.
  workers_.submit([this, eo = encoder_, codec, level, chunks = std::move(chunks), result,
                   tickets = std::move(batch.tickets), charged, done = std::move(done),
                   alive = std::weak_ptr<bool>(alive_)]() mutable -> std::function<void()> {
    encodeBatch(eo, codec, level, chunks, *result);
    chunks.clear();  // the loop may then recycle the last reference's data buffer
    return [this, result, tickets = std::move(tickets), charged, done = std::move(done), alive,
            codec, level] {
      if (alive.expired()) {
        return;
      }
      if (metrics_.owner != nullptr && !result->batch.blocks.empty()) {
        metrics_.compressedBlocks(codecName(codec), level)
            .Increment(static_cast<double>(result->batch.blocks.size()));
      }
      finishEncode(tickets, charged, result->stats);
      done(std::move(result->batch));
    };
  });
}

void EncodeStage::finishEncode(const std::vector<std::shared_ptr<ChunkTicket>>& tickets,
                               std::uint64_t charged, const EncodeStats& stats) {
  --running_;
  budget_.release(charged);
  for (std::size_t i = 0; i < tickets.size(); ++i) {
    const auto& t = tickets[i];
    const std::uint64_t invalid =
        i < stats.parse_errors_by_chunk.size() ? stats.parse_errors_by_chunk[i] : 0;
    if (invalid > 0 && !t->parse_errors_counted && metrics_.owner != nullptr) {
      t->parse_errors_counted = true;
      metrics_.owner->input_parse_errors->Add({{"input", t->chunk->source->input}})
          .Increment(static_cast<double>(invalid));
    }
    if (--t->encodes_left == 0) {
      // Every output has its encoded copy: the raw records are no longer needed, so they stop
      // being resident at the moment the budget stops counting them (or wait, warm, in the
      // bounded read pool for the next read).
      budget_.release(t->charged_bytes);
      if (t->chunk.use_count() == 1) {
        readBufferPool().give(std::move(t->chunk->data));
      }
      t->chunk.reset();
    }
  }
  if (stats.invalid_utf8_repaired > 0 && metrics_.owner != nullptr) {
    metrics_.repaired("invalid_utf8").Increment(static_cast<double>(stats.invalid_utf8_repaired));
  }
}

void EncodeStage::compress(std::string&& body, std::function<void(std::string)> done) {
  ++running_;
  workers_.submit([this, body = std::move(body), codec = codec_, level = level_,
                   done = std::move(done),
                   alive = std::weak_ptr<bool>(alive_)]() mutable -> std::function<void()> {
    auto gz = std::make_shared<std::string>();
    threadCompressor(codec, level).compress(body, *gz);
    return [this, gz, done = std::move(done), alive] {
      if (alive.expired()) {
        return;
      }
      --running_;
      done(std::move(*gz));
    };
  });
}

}  // namespace ingestd
