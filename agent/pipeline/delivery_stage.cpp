// DeliveryStage implementation (see delivery_stage.h).
#include "agent/pipeline/delivery_stage.h"

namespace ingestd {

// A block as DeliveryStage holds it, with its attempts.
struct DeliveryStage::Block : DeliveryBlock {
  explicit Block(DeliveryBlock&& block) : DeliveryBlock(std::move(block)) {}
  std::uint32_t attempts = 0;
  std::chrono::steady_clock::time_point first_attempt{};
  std::unique_ptr<Timer> retry_timer;
  std::uint64_t charged = 0;  // against the memory budget
};

DeliveryStage::DeliveryStage(DeliveryStageOptions options, Output& output, Loop& loop,
                             MemoryBudget& budget, DeadLetter& deadletter, OutputMetrics& metrics,
                             Logger& log, std::mt19937_64 rng)
    : opts_(std::move(options)),
      output_(output),
      loop_(loop),
      budget_(budget),
      deadletter_(deadletter),
      metrics_(metrics),
      log_(log),
      component_("output " + opts_.name),
      rng_(rng) {
  backoff_.initial = opts_.settings.retry_initial;
  backoff_.max = opts_.settings.retry_max;
}

void DeliveryStage::add(DeliveryBlock&& block) {
  auto b = std::make_shared<Block>(std::move(block));
  b->charged = b->body->size();
  budget_.acquire(b->charged);
  if (b->buffered) {
    metrics_.buffer_memory_bytes->Increment(static_cast<double>(b->charged));
  }
  ready_.push_back(std::move(b));
}

void DeliveryStage::pump() {
  while (!abandoned_ && in_flight_ < opts_.settings.concurrency && !ready_.empty()) {
    auto block = std::move(ready_.front());
    ready_.pop_front();
    sendBlock(block);
  }
}

void DeliveryStage::sendBlock(const std::shared_ptr<Block>& block) {
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

void DeliveryStage::onSendOutcome(
    std::shared_ptr<Block> block,  // NOLINT(performance-unnecessary-value-param)
    SendOutcome outcome, std::chrono::steady_clock::time_point started) {
  --in_flight_;
  metrics_.requests_in_flight->Decrement();
  ++block->attempts;
  const auto elapsed = std::chrono::steady_clock::now() - started;
  metrics_.request_duration->Observe(std::chrono::duration<double>(elapsed).count());
  switch (outcome.delivery) {
    case Delivery::kDelivered: onDelivered(block); break;
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
  if (on_send_done_) {
    on_send_done_();
  }
}

void DeliveryStage::onDelivered(const std::shared_ptr<Block>& block) {
  failing_since_.reset();
  if (metrics_.last_success != nullptr) {
    metrics_.last_success->Set(
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  }
  metrics_.records->Increment(static_cast<double>(block->records));
  metrics_.bytes_raw->Increment(static_cast<double>(block->raw_bytes));
  metrics_.bytes_compressed->Increment(static_cast<double>(block->body->size()));
  metrics_.blocks("delivered").Increment();
  finish(block, true);
}

void DeliveryStage::scheduleRetry(const std::shared_ptr<Block>& block, const SendOutcome& outcome) {
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

void DeliveryStage::deadLetterBlock(const std::shared_ptr<Block>& block, std::string reason,
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
  storeDeadLetter(std::move(e), 0, [this, block](bool) { finish(block, false); });
}

void DeliveryStage::deadLetterRecords(std::string id, std::vector<RejectedRecord>&& records,
                                      std::function<void(bool stored)> done) {
  std::string data;
  for (auto& r : records) {
    data += r.data;
    data.push_back('\n');
  }
  metrics_.dropped("record_too_large").Increment(static_cast<double>(records.size()));
  log_.error(component_,
             "{} record(s) are larger than batch.max_bytes ({} bytes) once encoded and cannot "
             "be sent; they were written to the dead-letter directory.",
             records.size(), opts_.settings.batch_max_bytes);
  auto e = std::make_shared<DeadLetterEntry>();
  e->output = opts_.name;
  e->destination = opts_.destination;
  e->block_id = std::move(id);
  e->reason = "record_too_large";
  e->message = records.front().reason;
  e->records = records.size();
  e->raw_bytes = data.size();
  e->format = "raw";
  e->is_gzip = false;
  e->data = std::make_shared<const std::string>(std::move(data));
  storeDeadLetter(std::move(e), 0, std::move(done));
}

void DeliveryStage::storeDeadLetter(const std::shared_ptr<const DeadLetterEntry>& entry,
                                    unsigned attempt, std::function<void(bool)> done) {
  ++dl_writing_;
  std::weak_ptr<bool> alive = alive_;
  deadletter_.write(*entry, [this, entry, attempt, done = std::move(done),
                             alive](const Status& st) {
    if (alive.expired()) {
      return;
    }
    --dl_writing_;
    // A dead letter that failed before stalls the output from its first failure until it is
    // stored or dropped: between its attempts too, or inputs would read on while it retries.
    auto settled = [this, attempt] {
      if (attempt > 0) {
        --dl_failing_;
        stalledChanged();
      }
    };
    if (st) {
      if (attempt > 0) {
        log_.info(component_, "Block {} is now stored in the dead-letter directory.",
                  entry->block_id);
      }
      settled();
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
      settled();
      done(false);
      return;
    }
    onDeadLetterWriteFailed(entry, attempt, st, done);
  });
}

void DeliveryStage::onDeadLetterWriteFailed(std::shared_ptr<const DeadLetterEntry> entry,
                                            unsigned attempt, const Status& st,
                                            std::function<void(bool)> done) {
  metrics_.deadletterWriteErrors().Increment();
  const auto delay = backoffDelay(backoff_, attempt, std::nullopt, rng_);
  log_.logLimited(LogLevel::kError, component_ + "/deadletter-write", std::chrono::seconds(30),
                  component_,
                  fmt::format("Cannot write block {} ({} records) to the dead-letter directory: "
                              "{} The block is kept and not acknowledged, inputs are paused, "
                              "and the write is tried again in {} ms.",
                              entry->block_id, entry->records, st.message(), delay.count()));
  if (attempt == 0) {
    ++dl_failing_;
    stalledChanged();
  }
  auto timer = std::make_unique<Timer>(loop_);
  Timer* raw = timer.get();
  dl_timers_[raw] = std::move(timer);
  raw->start(delay, [this, raw, entry = std::move(entry), attempt, done = std::move(done)] {
    // Destroy the timer after this callback has returned.
    loop_.post([keep = std::shared_ptr<Timer>(std::move(dl_timers_[raw]))] {});
    dl_timers_.erase(raw);
    storeDeadLetter(entry, attempt + 1, done);
  });
}

void DeliveryStage::stalledChanged() {
  if (on_stalled_change_) {
    on_stalled_change_();
  }
}

void DeliveryStage::finish(const std::shared_ptr<Block>& block, bool delivered) {
  retrying_.erase(block.get());
  if (block->retry_timer) {
    block->retry_timer->stop();
  }
  budget_.release(block->charged);
  if (block->buffered) {
    metrics_.buffer_memory_bytes->Decrement(static_cast<double>(block->charged));
  }
  block->charged = 0;
  if (block->done) {
    auto done = std::move(block->done);
    block->done = nullptr;
    done(delivered);
  }
  // Keep the block (and its timer) alive until this callback unwinds.
  loop_.post([keep = block] {});
}

bool DeliveryStage::idle() const {
  return ready_.empty() && in_flight_ == 0 && waiting_retry_ == 0 && retrying_.empty() &&
         dl_writing_ == 0;
}

void DeliveryStage::abandon() {
  abandoned_ = true;
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
