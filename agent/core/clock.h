// Clock: monotonic and wall time behind an interface, so tests can use a FakeClock.
#pragma once

#include <chrono>

namespace ingestd {

class Clock {
 public:
  using Monotonic = std::chrono::steady_clock::time_point;
  using Wall = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual Monotonic now() const = 0;
  virtual Wall wallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  Monotonic now() const override { return std::chrono::steady_clock::now(); }
  Wall wallNow() const override { return std::chrono::system_clock::now(); }
};

}  // namespace ingestd
