// Loop: owns the one libuv loop of the process, and a thread-safe way to run code on it.
// Timer (a uv_timer_t that can be destroyed at any time) is declared with the plugin API in
// agent/plugin/loop.h, since plugins use it too, and implemented in loop.cpp.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include <uv.h>

#include "agent/plugin/loop.h"

namespace ingestd {

class Loop {
 public:
  Loop();
  ~Loop();  // closes the loop; every other handle must be closed by then
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  uv_loop_t* raw() { return &loop_; }

  // Runs until stop() or until no handle is active. Loop thread only (the calling thread
  // becomes the loop thread).
  void run();
  // Runs one iteration without blocking; for tests.
  void runOnce();
  // Makes run() return after the current iteration. Loop thread only.
  void stop() { uv_stop(&loop_); }

  // Any thread: runs fn on the loop thread soon. Several posts may be served by one wakeup.
  void post(std::function<void()> fn);

  // Closes the internal async handle and runs the loop until every handle is closed.
  // Returns the uv_loop_close() result (0 when nothing leaked).
  int shutdown();

  // Loop-lag bookkeeping: callbacks may call this to record how long they ran.
  static void markLoopThread();

 private:
  static void onAsync(uv_async_t* handle);

  uv_loop_t loop_{};
  uv_async_t async_{};
  std::mutex mu_;  // guards posted_
  std::deque<std::function<void()>> posted_;
  bool closed_ = false;
};

}  // namespace ingestd
