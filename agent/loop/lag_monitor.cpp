// LagMonitor implementation (see lag_monitor.h).
#include "agent/loop/lag_monitor.h"

namespace ingestd {

std::chrono::nanoseconds tickLag(std::uint64_t last_ns, std::uint64_t now_ns,
                                 std::chrono::nanoseconds interval) {
  if (now_ns <= last_ns) {
    return {};
  }
  const auto elapsed = std::chrono::nanoseconds(now_ns - last_ns);
  return elapsed > interval ? elapsed - interval : std::chrono::nanoseconds{};
}

LagMonitor::LagMonitor(Loop& loop, std::chrono::milliseconds interval,
                       std::chrono::milliseconds warn_after,
                       std::function<void(std::chrono::nanoseconds)> observe,
                       std::function<void(std::chrono::nanoseconds)> on_stall)
    : timer_(loop),
      interval_(interval),
      warn_after_(warn_after),
      observe_(std::move(observe)),
      on_stall_(std::move(on_stall)) {}

void LagMonitor::start() {
  last_ns_ = uv_hrtime();
  timer_.startRepeating(interval_, [this] { onTick(); });
}

void LagMonitor::stop() { timer_.stop(); }

void LagMonitor::onTick() {
  const std::uint64_t now = uv_hrtime();
  const auto lag = tickLag(last_ns_, now, interval_);
  last_ns_ = now;
  ++ticks_;
  if (observe_) {
    observe_(lag);
  }
  if (lag >= warn_after_ && on_stall_) {
    on_stall_(lag);
  }
}

}  // namespace ingestd
