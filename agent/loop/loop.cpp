// Loop and Timer implementation.
#include "agent/loop/loop.h"

#include "agent/core/assert.h"

namespace ingestd {

namespace detail {
void markLoopThread();
}

Loop::Loop() {
  INGESTD_CHECK(uv_loop_init(&loop_) == 0);
  INGESTD_CHECK(uv_async_init(&loop_, &async_, &Loop::onAsync) == 0);
  async_.data = this;
  // The async handle must not keep run() alive on its own.
  uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
}

Loop::~Loop() {
  if (!closed_) {
    shutdown();
  }
}

void Loop::markLoopThread() { detail::markLoopThread(); }

void Loop::run() {
  detail::markLoopThread();
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void Loop::runOnce() {
  detail::markLoopThread();
  uv_run(&loop_, UV_RUN_NOWAIT);
}

void Loop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    posted_.push_back(std::move(fn));
  }
  uv_async_send(&async_);
}

void Loop::onAsync(uv_async_t* handle) {
  auto* self = static_cast<Loop*>(handle->data);
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(self->mu_);
    batch.swap(self->posted_);
  }
  for (auto& fn : batch) {
    fn();
  }
}

int Loop::shutdown() {
  if (closed_) {
    return 0;
  }
  closed_ = true;
  // Serve anything still posted, then close the async handle.
  onAsync(&async_);
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  return uv_loop_close(&loop_);
}

struct Timer::State {
  uv_timer_t handle{};
  std::function<void()> fn;

  static void onFire(uv_timer_t* handle) {
    auto* st = static_cast<State*>(handle->data);
    // Copy: the callback may restart or destroy the timer.
    auto callback = st->fn;
    if (callback) {
      callback();
    }
  }
};

Timer::Timer(Loop& loop) : state_(new State) {
  INGESTD_CHECK(uv_timer_init(loop.raw(), &state_->handle) == 0);
  state_->handle.data = state_;
}

Timer::~Timer() {
  uv_timer_stop(&state_->handle);
  state_->fn = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&state_->handle),
           [](uv_handle_t* h) { delete static_cast<State*>(h->data); });
}

void Timer::start(std::chrono::milliseconds timeout, std::function<void()> fn) {
  state_->fn = std::move(fn);
  uv_timer_start(&state_->handle, &State::onFire, static_cast<std::uint64_t>(timeout.count()), 0);
}

void Timer::startRepeating(std::chrono::milliseconds interval, std::function<void()> fn) {
  state_->fn = std::move(fn);
  auto ms = static_cast<std::uint64_t>(interval.count());
  uv_timer_start(&state_->handle, &State::onFire, ms, ms);
}

void Timer::stop() { uv_timer_stop(&state_->handle); }

bool Timer::active() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t*>(&state_->handle)) != 0;
}

}  // namespace ingestd
