// WorkerPool: a few threads for pure CPU jobs (encoding, compression). A job runs on a worker
// and returns a completion that runs on the loop thread (through Loop::post, one uv_async_t).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/loop/loop.h"

namespace ingestd {

class WorkerPool {
 public:
  // A job: runs on a worker thread, touches no loop object, returns the loop-side completion.
  using Job = std::function<std::function<void()>()>;

  // threads == 0 means the number of cores. max_in_flight bounds queued + running jobs.
  WorkerPool(Loop& loop, std::size_t threads, std::size_t max_in_flight = 0);
  ~WorkerPool();  // joins the threads; pending jobs are still run, completions still posted
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Loop thread. False when max_in_flight jobs are queued or running: the caller should wait
  // for a completion and try again (that is the backpressure).
  bool hasCapacity() const { return state_->in_flight < max_in_flight_; }
  // Loop thread. Submits even when over capacity (callers that must not wait).
  void submit(Job job);
  std::size_t inFlight() const { return state_->in_flight; }
  std::size_t threads() const { return threads_.size(); }

  // Loop thread: called after every completion, so the pipeline can submit more work.
  void setOnCapacity(std::function<void()> fn) { state_->on_capacity = std::move(fn); }

 private:
  void workerMain();

  Loop& loop_;
  std::size_t max_in_flight_;
  // Loop-side state, shared with posted completions so that a completion arriving after the
  // pool is gone is dropped safely.
  struct LoopState {
    std::size_t in_flight = 0;
    bool dead = false;
    std::function<void()> on_capacity;
  };
  std::shared_ptr<LoopState> state_ = std::make_shared<LoopState>();
  std::mutex mu_;  // guards queue_ and stopping_
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ingestd
