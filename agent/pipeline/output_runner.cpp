// OutputRunner implementation (see output_runner.h).
#include "agent/pipeline/output_runner.h"

#include "agent/core/assert.h"

namespace ingestd {

struct OutputRunner::Job {
  std::vector<std::shared_ptr<ChunkTicket>> tickets;
  std::size_t blocks_left = 0;  // encoded blocks and dead letters not yet done
  std::multiset<std::chrono::steady_clock::time_point>::iterator since;  // in open_jobs_since_
};

struct OutputRunner::Block {
  std::string id;
  std::shared_ptr<const std::string> body;
  std::uint64_t raw_bytes = 0;
  std::uint64_t records = 0;
  std::uint32_t attempts = 0;
  std::chrono::steady_clock::time_point first_attempt{};
  std::shared_ptr<Job> job;  // null for prepared blocks
  std::function<void(bool)> prepared_done;
  std::unique_ptr<Timer> retry_timer;
  std::uint64_t charged = 0;
};

namespace {

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
  return e;
}

}  // namespace

OutputRunner::OutputRunner(OutputRunnerOptions options, Output& output, Loop& loop,
                           WorkerPool& workers, MemoryBudget& budget, DeadLetter& deadletter,
                           OutputMetrics& metrics, Logger& log)
    : opts_(std::move(options)),
      output_(output),
      loop_(loop),
      budget_(budget),
      deadletter_(deadletter),
      metrics_(metrics),
      log_(log),
      component_("output " + opts_.name),
      delay_timer_(loop),
      batcher_(batcherOptions(opts_), delay_timer_, [this] { maybeStartJobs(); }),
      encode_(encodeOptions(opts_), workers, budget, metrics),
      alive_(std::make_shared<bool>(true)) {
  backoff_.initial = opts_.settings.retry_initial;
  backoff_.max = opts_.settings.retry_max;
  std::random_device rd;
  rng_.seed(opts_.seed != 0 ? opts_.seed : (static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  block_prefix_ = rng_();
}

OutputRunner::~OutputRunner() { *alive_ = false; }

std::string OutputRunner::newBlockId() {
  return fmt::format("{:016x}-{:08x}", block_prefix_, ++block_counter_);
}

void OutputRunner::push(std::shared_ptr<ChunkTicket> ticket) {
  INGESTD_ASSERT_ON_LOOP();
  batcher_.push(std::move(ticket));
  maybeStartJobs();
}

void OutputRunner::flush() {
  batcher_.flush();
  maybeStartJobs();
}

void OutputRunner::onWorkerCapacity() { maybeStartJobs(); }

void OutputRunner::maybeStartJobs() {
  const auto& s = opts_.settings;
  while (!abandoned_ && batcher_.due()) {
    // Enough encoded blocks are already waiting for a request slot: let sends catch up.
    if (!encode_.hasRoom() || ready_.size() >= s.concurrency * 2) {
      return;
    }
    startJob();
  }
}

void OutputRunner::startJob() {
  auto job = std::make_shared<Job>();
  Batch batch = batcher_.cut(newBlockId());
  job->tickets = batch.tickets;
  ++jobs_open_;
  job->since = open_jobs_since_.insert(batch.oldest);
  encode_.encode(std::move(batch),
                 [this, job](EncodedBatch encoded) { onEncoded(job, std::move(encoded)); });
  notifyPressure();
}

void OutputRunner::onEncoded(const std::shared_ptr<Job>& job, EncodedBatch&& encoded) {
  // One count per part, and one held while they are handed on: a part can be done before this
  // returns (a dead letter refused at once because the directory is full).
  job->blocks_left = encoded.blocks.size() + (encoded.rejected.empty() ? 0 : 1) + 1;
  for (auto& part : encoded.blocks) {
    auto block = std::make_shared<Block>();
    block->id = std::move(part.id);
    block->raw_bytes = part.raw_bytes;
    block->records = part.records;
    block->charged = part.body.size();
    block->body = std::make_shared<const std::string>(std::move(part.body));
    block->job = job;
    budget_.acquire(block->charged);
    metrics_.buffer_memory_bytes->Increment(static_cast<double>(block->charged));
    ready_.push_back(std::move(block));
  }
  if (!encoded.rejected.empty()) {
    // Records too large for any block: dead-letter them together, as raw text.
    std::string data;
    for (auto& r : encoded.rejected) {
      data += r.data;
      data.push_back('\n');
    }
    metrics_.dropped("record_too_large").Increment(static_cast<double>(encoded.rejected.size()));
    log_.error(component_,
               "{} record(s) are larger than batch.max_bytes ({} bytes) once encoded and cannot "
               "be sent; they were written to the dead-letter directory.",
               encoded.rejected.size(), opts_.settings.batch_max_bytes);
    auto e = std::make_shared<DeadLetterEntry>();
    e->output = opts_.name;
    e->destination = opts_.destination;
    e->block_id = std::move(encoded.rejected_id);
    e->reason = "record_too_large";
    e->message = encoded.rejected.front().reason;
    e->records = encoded.rejected.size();
    e->raw_bytes = data.size();
    e->format = "raw";
    e->is_gzip = false;
    e->data = std::make_shared<const std::string>(std::move(data));
    storeDeadLetter(std::move(e), 0, [this, job](bool) {
      if (--job->blocks_left == 0) {
        jobFinished(*job);
      }
    });
  }
  if (--job->blocks_left == 0) {
    jobFinished(*job);
  }
  pump();
  maybeStartJobs();
}

void OutputRunner::sendPrepared(std::string body, bool body_is_gzip, std::uint64_t raw_bytes,
                                std::uint64_t records, std::function<void(bool)> done) {
  auto block = std::make_shared<Block>();
  block->id = newBlockId();
  block->raw_bytes = raw_bytes;
  block->records = records;
  block->prepared_done = std::move(done);
  if (body_is_gzip) {
    block->charged = body.size();
    block->body = std::make_shared<const std::string>(std::move(body));
    budget_.acquire(block->charged);
    ready_.push_back(std::move(block));
    pump();
    return;
  }
  encode_.compress(std::move(body), [this, block](std::string gz) {
    block->charged = gz.size();
    block->body = std::make_shared<const std::string>(std::move(gz));
    budget_.acquire(block->charged);
    ready_.push_back(block);
    pump();
  });
}

void OutputRunner::pump() {
  while (!abandoned_ && in_flight_ < opts_.settings.concurrency && !ready_.empty()) {
    auto block = std::move(ready_.front());
    ready_.pop_front();
    sendBlock(std::move(block));
  }
}

void OutputRunner::sendBlock(std::shared_ptr<Block> block) {
  ++in_flight_;
  metrics_.requests_in_flight->Increment();
  const auto started = std::chrono::steady_clock::now();
  if (block->attempts == 0) {
    block->first_attempt = started;
  }
  Payload p;
  p.block_id = block->id;
  p.attempt = block->attempts;
  p.body = block->body;
  p.raw_bytes = block->raw_bytes;
  p.records = block->records;
  std::weak_ptr<bool> alive = alive_;
  output_.send(std::move(p), [this, block, started, alive](SendOutcome outcome) {
    if (alive.expired()) {
      return;
    }
    onSendOutcome(block, std::move(outcome), started);
  });
}

void OutputRunner::onSendOutcome(std::shared_ptr<Block> block, SendOutcome outcome,
                                 std::chrono::steady_clock::time_point started) {
  --in_flight_;
  metrics_.requests_in_flight->Decrement();
  ++block->attempts;
  const auto elapsed = std::chrono::steady_clock::now() - started;
  metrics_.request_duration->Observe(std::chrono::duration<double>(elapsed).count());
  switch (outcome.delivery) {
    case Delivery::kDelivered:
      failing_since_.reset();
      if (metrics_.last_success != nullptr) {
        metrics_.last_success->Set(
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count());
      }
      metrics_.records->Increment(static_cast<double>(block->records));
      metrics_.bytes_raw->Increment(static_cast<double>(block->raw_bytes));
      metrics_.bytes_compressed->Increment(static_cast<double>(block->body->size()));
      metrics_.blocks("delivered").Increment();
      blockFinished(block, true);
      break;
    case Delivery::kRejected:
      metrics_.blocks("rejected").Increment();
      metrics_.dropped("rejected").Increment(static_cast<double>(block->records));
      log_.error(component_,
                 "The service rejected block {} ({} records) permanently: {} {}: {} The block "
                 "was written to the dead-letter directory.",
                 block->id, block->records, outcome.http_status, outcome.error_code,
                 outcome.message);
      deadLetterBlock(block, "rejected", outcome);
      break;
    case Delivery::kRetry:
      if (!failing_since_) {
        failing_since_ = started;
      }
      last_error_ = fmt::format("{} {}", outcome.http_status, outcome.error_code);
      scheduleRetry(block, outcome);
      break;
  }
  pump();
  maybeStartJobs();
}

void OutputRunner::scheduleRetry(std::shared_ptr<Block> block, const SendOutcome& outcome) {
  const auto& s = opts_.settings;
  const auto since_first = std::chrono::steady_clock::now() - block->first_attempt;
  if (s.retry_max_elapsed.count() > 0 && since_first >= s.retry_max_elapsed) {
    metrics_.blocks("expired").Increment();
    metrics_.dropped("retries_exhausted").Increment(static_cast<double>(block->records));
    log_.error(component_,
               "Giving up on block {} ({} records) after {} attempts (retry.max_elapsed): last "
               "error {} {}: {} The block was written to the dead-letter directory.",
               block->id, block->records, block->attempts, outcome.http_status, outcome.error_code,
               outcome.message);
    deadLetterBlock(block, "retries_exhausted", outcome);
    return;
  }
  metrics_.retries->Increment();
  const auto delay = backoffDelay(backoff_, block->attempts - 1, outcome.retry_after, rng_);
  log_.logLimited(LogLevel::kWarn, component_ + "/retry", std::chrono::seconds(5), component_,
                  fmt::format("Output \"{}\" got {} {} ({}), retrying block {} in {} ms "
                              "(attempt {}).",
                              opts_.name, outcome.http_status, outcome.error_code, outcome.message,
                              block->id, delay.count(), block->attempts + 1));
  ++waiting_retry_;
  if (!block->retry_timer) {
    block->retry_timer = std::make_unique<Timer>(loop_);
  }
  block->retry_timer->start(delay, [this, b = std::weak_ptr<Block>(block)] {
    auto strong = b.lock();
    if (!strong) {
      return;
    }
    --waiting_retry_;
    ready_.push_front(strong);
    pump();
  });
  // The timer holds only a weak reference; keep the block alive in the retry set.
  retrying_[block.get()] = block;
}

void OutputRunner::deadLetterBlock(std::shared_ptr<Block> block, std::string reason,
                                   const SendOutcome& outcome) {
  auto e = std::make_shared<DeadLetterEntry>();
  e->output = opts_.name;
  e->destination = opts_.destination;
  e->block_id = block->id;
  e->reason = std::move(reason);
  e->http_status = outcome.http_status;
  e->error_code = outcome.error_code;
  e->message = outcome.message;
  e->attempts = block->attempts;
  e->records = block->records;
  e->raw_bytes = block->raw_bytes;
  e->format = opts_.format;
  e->data = block->body;
  e->is_gzip = true;
  storeDeadLetter(std::move(e), 0, [this, block](bool) { blockFinished(block, false); });
}

void OutputRunner::storeDeadLetter(std::shared_ptr<const DeadLetterEntry> entry, unsigned attempt,
                                   std::function<void(bool)> done) {
  ++dl_writing_;
  std::weak_ptr<bool> alive = alive_;
  deadletter_.write(*entry, [this, entry, attempt, done = std::move(done), alive](Status st) {
    if (alive.expired()) {
      return;
    }
    --dl_writing_;
    if (st) {
      if (attempt > 0) {
        log_.info(component_, "Block {} is now stored in the dead-letter directory.",
                  entry->block_id);
      }
      metrics_.deadletter_blocks->Increment();
      done(true);
      return;
    }
    if (st.error().code == ErrorCode::kUnavailable) {
      // Full: the stated policy is to keep the directory at its cap and drop the new block.
      metrics_.deadletterDiscarded().Increment();
      log_.logLimited(LogLevel::kError, component_ + "/deadletter-full", std::chrono::seconds(30),
                      component_,
                      fmt::format("{} Block {} ({} records) is dropped, not stored: those "
                                  "records are lost.",
                                  st.message(), entry->block_id, entry->records));
      done(false);
      return;
    }
    metrics_.deadletterWriteErrors().Increment();
    const auto delay = backoffDelay(backoff_, attempt, std::nullopt, rng_);
    log_.logLimited(LogLevel::kError, component_ + "/deadletter-write", std::chrono::seconds(30),
                    component_,
                    fmt::format("Cannot write block {} ({} records) to the dead-letter directory: "
                                "{} The block is kept and not acknowledged, inputs are paused, "
                                "and the write is tried again in {} ms.",
                                entry->block_id, entry->records, st.message(), delay.count()));
    ++dl_waiting_;
    notifyPressure();
    auto timer = std::make_unique<Timer>(loop_);
    Timer* raw = timer.get();
    dl_timers_[raw] = std::move(timer);
    raw->start(delay, [this, raw, entry, attempt, done] {
      // Destroy the timer after this callback has returned.
      loop_.post([keep = std::shared_ptr<Timer>(std::move(dl_timers_[raw]))] {});
      dl_timers_.erase(raw);
      --dl_waiting_;
      notifyPressure();
      storeDeadLetter(entry, attempt + 1, done);
    });
  });
}

void OutputRunner::notifyPressure() {
  if (!on_pressure_) {
    return;
  }
  loop_.post([fn = on_pressure_, alive = std::weak_ptr<bool>(alive_)] {
    if (!alive.expired()) {
      fn();
    }
  });
}

void OutputRunner::blockFinished(const std::shared_ptr<Block>& block, bool delivered) {
  retrying_.erase(block.get());
  if (block->retry_timer) {
    block->retry_timer->stop();
  }
  budget_.release(block->charged);
  if (block->job) {
    metrics_.buffer_memory_bytes->Decrement(static_cast<double>(block->charged));
  }
  block->charged = 0;
  if (block->prepared_done) {
    auto done = std::move(block->prepared_done);
    done(delivered);
  }
  if (block->job && --block->job->blocks_left == 0) {
    jobFinished(*block->job);
  }
  block->job.reset();
  // Keep the block (and its timer) alive until this callback unwinds.
  loop_.post([keep = block] {});
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

bool OutputRunner::idle() const {
  // Jobs held open only by dead letters waiting to be written again do not hold up shutdown:
  // those blocks stay unacknowledged and their records are read again after a restart.
  return batcher_.empty() && encode_.idle() && (jobs_open_ == 0 || dl_waiting_ > 0) &&
         ready_.empty() && in_flight_ == 0 && waiting_retry_ == 0 && retrying_.empty() &&
         dl_writing_ == 0;
}

OutputReadiness OutputRunner::readiness(std::chrono::steady_clock::time_point now) const {
  if (stalled()) {
    return {false, fmt::format("output \"{}\": a rejected block cannot be written to the "
                               "dead-letter directory",
                               opts_.name)};
  }
  if (failing_since_ && !idle() && now - *failing_since_ > opts_.settings.retry_max) {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - *failing_since_);
    return {false, fmt::format("output \"{}\": nothing delivered for {} s while data is "
                               "pending (last error: {})",
                               opts_.name, secs.count(), last_error_)};
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
  for (auto& [ptr, block] : retrying_) {
    if (block->retry_timer) {
      block->retry_timer->stop();
    }
  }
  for (auto& [ptr, timer] : dl_timers_) {
    timer->stop();
  }
}

}  // namespace ingestd
