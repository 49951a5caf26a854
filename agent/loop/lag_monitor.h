// LagMonitor: measures how late the loop runs a timer that should fire every `interval`. A
// timer fires late only when callbacks ran that long in between, so the lateness is the loop
// lag that inputs, outputs and the metrics endpoint see. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "agent/loop/loop.h"

namespace ingestd {

// Pure: the lag of a tick observed at `now_ns` when the previous one was at `last_ns` and
// ticks are `interval` apart (0 when on time; a clock that went backwards counts as on time).
std::chrono::nanoseconds tickLag(std::uint64_t last_ns, std::uint64_t now_ns,
                                 std::chrono::nanoseconds interval);

class LagMonitor {
 public:
  // observe(lag) runs on every tick; on_stall(lag) when one tick was `warn_after` late or more.
  LagMonitor(Loop& loop, std::chrono::milliseconds interval, std::chrono::milliseconds warn_after,
             std::function<void(std::chrono::nanoseconds)> observe,
             std::function<void(std::chrono::nanoseconds)> on_stall);
  void start();
  void stop();
  std::uint64_t ticksForTest() const { return ticks_; }

 private:
  void onTick();

  Timer timer_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds warn_after_;
  std::function<void(std::chrono::nanoseconds)> observe_;
  std::function<void(std::chrono::nanoseconds)> on_stall_;
  std::uint64_t last_ns_ = 0;
  std::uint64_t ticks_ = 0;
};

}  // namespace ingestd
