// MemoryBudget: the global bound of service.memory_limit over records waiting in batchers,
// blocks being encoded, in flight and waiting to retry. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>

namespace ingestd {

class MemoryBudget {
 public:
  // on_full fires when usage reaches the limit; on_space when it falls back below
  // resume_fraction of the limit (hysteresis, so inputs do not flap).
  explicit MemoryBudget(std::uint64_t limit, double resume_fraction = 0.75)
      : limit_(limit), resume_at_(static_cast<std::uint64_t>(limit * resume_fraction)) {}

  void setCallbacks(std::function<void()> on_full, std::function<void()> on_space) {
    on_full_ = std::move(on_full);
    on_space_ = std::move(on_space);
  }

  void acquire(std::uint64_t bytes) {
    used_ += bytes;
    if (used_ > peak_) {
      peak_ = used_;
    }
    if (!full_ && used_ >= limit_) {
      full_ = true;
      if (on_full_) {
        on_full_();
      }
    }
  }

  void release(std::uint64_t bytes) {
    used_ = bytes > used_ ? 0 : used_ - bytes;
    if (full_ && used_ < resume_at_) {
      full_ = false;
      if (on_space_) {
        on_space_();
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
  std::function<void()> on_full_;
  std::function<void()> on_space_;
};

}  // namespace ingestd
