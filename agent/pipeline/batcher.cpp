// Batcher implementation (see batcher.h).
#include "agent/pipeline/batcher.h"

#include <algorithm>

#include "agent/core/assert.h"

namespace ingestd {

std::uint64_t estimateEncodedBytes(std::string_view format, std::string_view hostname,
                                   const RecordChunk& chunk) {
  // Per-record overhead of the encoded form: field names, timestamp, tag, host and source.
  std::uint64_t per_record = 0;
  const auto& src = *chunk.source;
  if (format == "txt") {
    per_record = 1;
  } else if (format == "csv" || format == "tsv") {
    per_record = 30 + src.tag.size() + hostname.size() + src.source.size();
  } else {
    per_record = 80 + src.tag.size() + hostname.size() + src.source.size();
  }
  // Escaping adds a little; 2% keeps most blocks within one encode job.
  return chunk.data.size() + chunk.data.size() / 50 + chunk.records * per_record;
}

Batcher::Batcher(BatcherOptions options, DelayTimer& timer, std::function<void()> on_delay)
    : opts_(std::move(options)), timer_(timer), on_delay_(std::move(on_delay)) {}

void Batcher::push(std::shared_ptr<ChunkTicket> ticket) {
  const RecordChunk& chunk = *ticket->chunk;
  const std::uint64_t estimate = estimateEncodedBytes(opts_.format, opts_.hostname, chunk);
  pending_estimate_ += estimate;
  pending_records_ += chunk.records;
  pending_bytes_ += chunk.data.size();
  pending_.push_back({std::move(ticket), estimate});
  if (!timer_.active()) {
    timer_.start(opts_.max_delay, [this] {
      flushing_ = true;
      if (on_delay_) {
        on_delay_();
      }
    });
  }
}

void Batcher::flush() {
  if (!pending_.empty()) {
    flushing_ = true;
  }
}

bool Batcher::full() const {
  return pending_estimate_ >= opts_.max_bytes - opts_.max_bytes / 16 ||
         (opts_.max_records != 0 && pending_records_ >= opts_.max_records);
}

bool Batcher::due() const { return !pending_.empty() && (flushing_ || full()); }

Batch Batcher::cut(std::string id) {
  INGESTD_ASSERT(!pending_.empty());
  Batch batch;
  batch.id = std::move(id);
  while (!pending_.empty()) {
    Pending& p = pending_.front();
    const RecordChunk& chunk = *p.ticket->chunk;
    const bool over_bytes = batch.estimate + p.estimate > opts_.max_bytes;
    const bool over_records =
        opts_.max_records != 0 && batch.records + chunk.records > opts_.max_records;
    if (!batch.tickets.empty() && (over_bytes || over_records)) {
      break;
    }
    batch.estimate += p.estimate;
    batch.records += chunk.records;
    pending_estimate_ -= p.estimate;
    pending_records_ -= chunk.records;
    pending_bytes_ -= chunk.data.size();
    batch.oldest =
        batch.tickets.empty() ? p.ticket->routed_at : std::min(batch.oldest, p.ticket->routed_at);
    batch.tickets.push_back(std::move(p.ticket));
    pending_.pop_front();
  }
  if (pending_.empty()) {
    flushing_ = false;
    timer_.stop();
  }
  batch.waiting_after = pending_bytes_;
  return batch;
}

std::optional<std::chrono::steady_clock::time_point> Batcher::oldestRoutedAt() const {
  if (pending_.empty()) {
    return std::nullopt;
  }
  return pending_.front().ticket->routed_at;
}

}  // namespace ingestd
