// OutputRunner implementation (see output_runner.h).
#include "agent/pipeline/output_runner.h"

#include <optional>

#include "agent/core/assert.h"
#include "agent/core/heap.h"

namespace ingestd {

namespace {

std::mt19937_64 seededRng(std::uint64_t seed) {
  std::random_device rd;
  return std::mt19937_64(seed != 0 ? seed : (static_cast<std::uint64_t>(rd()) << 32) ^ rd());
}

BatcherOptions batcherOptions(const OutputRunnerOptions& o) {
  BatcherOptions b;
  b.max_bytes = o.settings.batch_max_bytes;
  b.max_records = o.settings.batch_max_records;
  b.max_delay = o.settings.batch_max_delay;
  b.format = o.format;
  b.hostname = o.hostname;
  return b;
}

EncodeStageOptions encodeOptions(const OutputRunnerOptions& o) {
  EncodeStageOptions e;
  e.format = o.format;
  e.columns = o.columns;
  e.hostname = o.hostname;
  e.max_block_bytes = o.settings.batch_max_bytes;
  e.max_block_records = o.settings.batch_max_records;
  e.codec = o.settings.compression_codec;
  e.level = o.settings.compression_level;
  e.adaptive_level = o.settings.compression_adaptive;
  return e;
}

DeliveryStageOptions deliveryOptions(const OutputRunnerOptions& o) {
  DeliveryStageOptions d;
  d.name = o.name;
  d.destination = o.destination;
  d.format = o.format;
  d.settings = o.settings;
  return d;
}

}  // namespace

OutputRunner::OutputRunner(OutputRunnerOptions options, Output& output, Loop& loop,
                           WorkerPool& workers, MemoryBudget& budget, DeadLetter& deadletter,
                           OutputMetrics& metrics, Logger& log)
    : opts_(std::move(options)),
      metrics_(metrics),
      rng_(seededRng(opts_.seed)),
      block_prefix_(rng_()),
      delay_timer_(loop),
      batcher_(batcherOptions(opts_), delay_timer_, [this] { maybeStartJobs(); }),
      encode_(encodeOptions(opts_), workers, budget, metrics),
      delivery_(deliveryOptions(opts_), output, loop, budget, deadletter, metrics, log, rng_) {
  delivery_.setOnSendDone([this] { maybeStartJobs(); });
  delivery_.setOnStalledChange([this] { updatePressure(); });
}

OutputRunner::~OutputRunner() = default;

std::string OutputRunner::newBlockId() {
  return fmt::format("{:016x}-{:08x}", block_prefix_, ++block_counter_);
}

void OutputRunner::push(std::shared_ptr<ChunkTicket> ticket) {
  INGESTD_ASSERT_ON_LOOP();
  batcher_.push(std::move(ticket));
  maybeStartJobs();
  updatePressure();
}

void OutputRunner::flush() {
  batcher_.flush();
  maybeStartJobs();
}

void OutputRunner::onWorkerCapacity() { maybeStartJobs(); }

void OutputRunner::maybeStartJobs() {
  while (!abandoned_ && batcher_.due()) {
    // Enough encoded blocks are already waiting for a request slot: let sends catch up.
    if (!encode_.hasRoom() || delivery_.backedUp()) {
      return;
    }
    startJob();
  }
}

void OutputRunner::startJob() {
  auto job = std::make_shared<Job>();
  Batch batch = batcher_.cut(newBlockId());
  ++jobs_open_;
  job->tickets = batch.tickets;
  job->since = open_jobs_since_.insert(batch.oldest);
  encode_.encode(std::move(batch),
                 [this, job](EncodedBatch encoded) { onEncoded(job, std::move(encoded)); });
  updatePressure();
}

void OutputRunner::onEncoded(const std::shared_ptr<Job>& job, EncodedBatch&& encoded) {
  // One count per part, and one held while they are handed on: a part can be done before this
  // returns (a dead letter refused at once because the directory is full).
  job->parts_left = encoded.blocks.size() + (encoded.rejected.empty() ? 0 : 1) + 1;
  for (auto& part : encoded.blocks) {
    DeliveryBlock block;
    block.id = std::move(part.id);
    block.body = pooledBody(std::move(part.body));
    block.raw_bytes = part.raw_bytes;
    block.records = part.records;
    block.buffered = true;
    block.done = [this, job](bool) { partFinished(*job); };
    delivery_.add(std::move(block));
  }
  if (!encoded.rejected.empty()) {
    // Records too large for any block: dead-letter them together, as raw text.
    delivery_.deadLetterRecords(std::move(encoded.rejected_id), std::move(encoded.rejected),
                                [this, job](bool) { partFinished(*job); });
  }
  partFinished(*job);
  delivery_.pump();
  maybeStartJobs();
}

void OutputRunner::sendPrepared(std::string body, bool body_is_gzip, std::uint64_t raw_bytes,
                                std::uint64_t records, std::function<void(bool)> done) {
  DeliveryBlock block;
  block.id = newBlockId();
  block.raw_bytes = raw_bytes;
  block.records = records;
  block.buffered = false;
  block.done = std::move(done);
  if (body_is_gzip) {
    block.body = std::make_shared<const std::string>(std::move(body));
    delivery_.add(std::move(block));
    delivery_.pump();
    return;
  }
  encode_.compress(std::move(body), [this, block = std::move(block)](std::string gz) mutable {
    block.body = std::make_shared<const std::string>(std::move(gz));
    delivery_.add(std::move(block));
    delivery_.pump();
  });
}

void OutputRunner::partFinished(Job& job) {
  if (--job.parts_left == 0) {
    jobFinished(job);
  }
}

void OutputRunner::jobFinished(Job& job) {
  --jobs_open_;
  open_jobs_since_.erase(job.since);
  for (auto& t : job.tickets) {
    if (--t->outputs_left == 0 && t->on_ack) {
      t->on_ack();
    }
  }
  job.tickets.clear();
}

void OutputRunner::reportTo(Backpressure& pressure) {
  pressure_ = &pressure;
  backlog_cause_ = pressure.addCause("backlog", opts_.name);
  stalled_cause_ = pressure.addCause("stalled", opts_.name);
  updatePressure();
}

void OutputRunner::updatePressure() {
  const std::uint64_t bytes = batcher_.bytes();
  if (bytes >= backlogHigh()) {
    backlogged_ = true;
  } else if (bytes < backlogHigh() / 2) {
    backlogged_ = false;
  }
  if (pressure_ != nullptr) {
    pressure_->set(backlog_cause_, backlogged_);
    pressure_->set(stalled_cause_, delivery_.stalled());
  }
}

bool OutputRunner::idle() const {
  // Jobs held open only by dead letters waiting to be written again do not hold up shutdown:
  // those blocks stay unacknowledged and their records are read again after a restart.
  return batcher_.empty() && encode_.idle() && (jobs_open_ == 0 || delivery_.stalled()) &&
         delivery_.idle();
}

OutputReadiness OutputRunner::readiness(std::chrono::steady_clock::time_point now) const {
  if (stalled()) {
    return {false, fmt::format("output \"{}\": a rejected block cannot be written to the "
                               "dead-letter directory",
                               opts_.name)};
  }
  const auto failing_since = delivery_.failingSince();
  if (failing_since && !idle() && now - *failing_since > opts_.settings.retry_max) {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - *failing_since);
    return {false, fmt::format("output \"{}\": nothing delivered for {} s while data is "
                               "pending (last error: {})",
                               opts_.name, secs.count(), delivery_.lastError())};
  }
  return {};
}

std::chrono::steady_clock::duration OutputRunner::oldestUnacked(
    std::chrono::steady_clock::time_point now) const {
  std::optional<std::chrono::steady_clock::time_point> oldest;
  if (!open_jobs_since_.empty()) {
    oldest = *open_jobs_since_.begin();
  }
  if (auto pending = batcher_.oldestRoutedAt(); pending && (!oldest || *pending < *oldest)) {
    oldest = pending;
  }
  if (!oldest || *oldest > now) {
    return {};
  }
  return now - *oldest;
}

void OutputRunner::updateGauges(std::chrono::steady_clock::time_point now) {
  if (metrics_.oldest_unacked_age != nullptr) {
    metrics_.oldest_unacked_age->Set(std::chrono::duration<double>(oldestUnacked(now)).count());
  }
}

void OutputRunner::abandon() {
  abandoned_ = true;
  delay_timer_.stop();
  delivery_.abandon();
}

}  // namespace ingestd
