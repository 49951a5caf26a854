// WorkerPool implementation.
#include "agent/loop/worker_pool.h"

#include "agent/core/assert.h"

namespace ingestd {

WorkerPool::WorkerPool(Loop& loop, std::size_t threads, std::size_t max_in_flight) : loop_(loop) {
  if (threads == 0) {
    threads = std::max(1u, std::thread::hardware_concurrency());
  }
  max_in_flight_ = max_in_flight == 0 ? threads * 2 : max_in_flight;
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { workerMain(); });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    t.join();
  }
  state_->dead = true;
}

void WorkerPool::submit(Job job) {
  INGESTD_ASSERT_ON_LOOP();
  ++state_->in_flight;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void WorkerPool::workerMain() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;
      }
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    std::function<void()> completion = job();
    loop_.post([state = state_, completion = std::move(completion)] {
      if (state->dead) {
        return;
      }
      --state->in_flight;
      if (completion) {
        completion();
      }
      if (state->on_capacity) {
        state->on_capacity();
      }
    });
  }
}

}  // namespace ingestd
