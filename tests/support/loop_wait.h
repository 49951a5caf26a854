// runLoopUntil(): waitFor() for code that lives on an ingestd Loop. Runs the loop (the calling
// thread becomes the loop thread) until a condition holds or a deadline passes; never sleeps
// blindly. Header-only so that test executables that do not link libuv are unaffected.
#pragma once

#include <chrono>
#include <functional>

#include <uv.h>

#include "agent/loop/loop.h"

namespace ingestd::test {

// Returns true as soon as cond() holds (checked before running the loop and after every loop
// iteration), false once `timeout` elapsed. A 5 ms ticker keeps the loop waking up so the
// deadline is honoured even when nothing else is pending. The ticker is closed before returning.
inline bool runLoopUntil(Loop& loop, const std::function<bool()>& cond,
                         std::chrono::milliseconds timeout) {
  Loop::markLoopThread();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  uv_timer_t tick;
  uv_timer_init(loop.raw(), &tick);
  uv_timer_start(
      &tick, [](uv_timer_t*) {}, 5, 5);
  bool ok = cond();
  while (!ok && std::chrono::steady_clock::now() < deadline) {
    uv_run(loop.raw(), UV_RUN_ONCE);
    ok = cond();
  }
  uv_timer_stop(&tick);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
  uv_run(loop.raw(), UV_RUN_NOWAIT);  // runs the close callback before `tick` goes away
  return ok;
}

// Runs the loop for `duration` (to show that something does NOT happen within it).
inline void runLoopFor(Loop& loop, std::chrono::milliseconds duration) {
  (void)runLoopUntil(
      loop, [] { return false; }, duration);
}

}  // namespace ingestd::test
