// MemoryBudget: the global bound of service.memory_limit over records waiting in batchers,
// blocks being encoded, in flight and waiting to retry. It reports "full" to Backpressure, the
// one place inputs hear from. Loop thread only.
#pragma once

#include <cstdint>

#include "agent/pipeline/backpressure.h"

namespace ingestd {

class MemoryBudget {
 public:
  // Full when usage reaches the limit; not full again once it falls below resume_fraction of
  // the limit (hysteresis, so inputs do not flap).
  explicit MemoryBudget(std::uint64_t limit, double resume_fraction = 0.75)
      : limit_(limit), resume_at_(static_cast<std::uint64_t>(limit * resume_fraction)) {}

  // Reports full / not full as Backpressure's "memory" cause.
  void reportTo(Backpressure& pressure) {
    pressure_ = &pressure;
    cause_ = pressure.addCause("memory");
    pressure.set(cause_, full_);
  }

  void acquire(std::uint64_t bytes) {
    used_ += bytes;
    if (used_ > peak_) {
      peak_ = used_;
    }
    if (!full_ && used_ >= limit_) {
      full_ = true;
      if (pressure_ != nullptr) {
        pressure_->set(cause_, true);
      }
    }
  }

  void release(std::uint64_t bytes) {
    used_ = bytes > used_ ? 0 : used_ - bytes;
    if (full_ && used_ < resume_at_) {
      full_ = false;
      if (pressure_ != nullptr) {
        pressure_->set(cause_, false);
      }
    }
  }

  bool full() const { return full_; }
  std::uint64_t used() const { return used_; }
  std::uint64_t peak() const { return peak_; }
  std::uint64_t limit() const { return limit_; }

 private:
  std::uint64_t limit_;
  std::uint64_t resume_at_;
  std::uint64_t used_ = 0;
  std::uint64_t peak_ = 0;
  bool full_ = false;
  Backpressure* pressure_ = nullptr;
  Backpressure::CauseId cause_ = 0;
};

}  // namespace ingestd
