// fileWork() and FsWatch: libuv's thread pool and uv_fs_event_t behind the plugin API.
// (Timer is implemented with the Loop in agent/loop/loop.cpp.)
#include "agent/plugin/loop.h"

#include <uv.h>

#include "agent/core/assert.h"
#include "agent/loop/loop.h"

namespace ingestd {

void fileWork(Loop& loop, std::function<void()> work, std::function<void()> done) {
  struct Req {
    uv_work_t req{};
    std::function<void()> work;
    std::function<void()> done;
  };
  auto* r = new Req;
  r->req.data = r;
  r->work = std::move(work);
  r->done = std::move(done);
  // noexcept: a throw ends the process here instead of unwinding through libuv.
  int rc = uv_queue_work(
      loop.raw(), &r->req,
      [](uv_work_t* req) noexcept {
        auto* w = static_cast<Req*>(req->data);
        if (w->work) {
          w->work();
        }
      },
      [](uv_work_t* req, int) noexcept {
        // The status is never UV_ECANCELED: nothing here calls uv_cancel.
        std::unique_ptr<Req> w(static_cast<Req*>(req->data));
        if (w->done) {
          w->done();
        }
      });
  INGESTD_CHECK(rc == 0);  // uv_queue_work fails only without a work callback
}

struct FsWatch::State {
  uv_fs_event_t handle{};
  std::function<void(const FsEvent&)> on_event;
  std::function<void()> on_closed;
  bool closing = false;
};

FsWatch::FsWatch(Loop& loop) : state_(new State) {
  INGESTD_CHECK(uv_fs_event_init(loop.raw(), &state_->handle) == 0);
  state_->handle.data = state_;
}

FsWatch::~FsWatch() {
  if (!closed_) {
    close(nullptr);
  }
}

Status FsWatch::start(const std::string& dir, std::function<void(const FsEvent&)> on_event) {
  INGESTD_CHECK(!closed_);
  state_->on_event = std::move(on_event);
  int rc = uv_fs_event_start(
      &state_->handle,
      [](uv_fs_event_t* handle, const char* filename, int events, int status) noexcept {
        auto* st = static_cast<State*>(handle->data);
        if (st->closing || !st->on_event) {
          return;
        }
        FsEvent ev;
        char buf[4096];
        std::size_t len = sizeof buf;
        if (status < 0 || uv_fs_event_getpath(handle, buf, &len) != 0) {
          ev.failed = true;
        } else {
          ev.dir.assign(buf, len);
          if (filename != nullptr) {
            ev.name = filename;
          }
          ev.change = (events & UV_CHANGE) != 0;
          ev.rename = (events & UV_RENAME) != 0;
        }
        // Copy: the callback may close or destroy the watch.
        auto fn = st->on_event;
        fn(ev);
      },
      dir.c_str(), 0);
  if (rc == 0) {
    return Status::ok();
  }
  state_->on_event = nullptr;
  return makeError(rc == UV_ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                   "Cannot watch directory \"{}\" ({})", dir, uv_strerror(rc));
}

void FsWatch::close(std::function<void()> done) {
  INGESTD_CHECK(!closed_);
  closed_ = true;
  state_->closing = true;
  state_->on_event = nullptr;
  state_->on_closed = std::move(done);
  uv_fs_event_stop(&state_->handle);
  uv_close(reinterpret_cast<uv_handle_t*>(&state_->handle), [](uv_handle_t* h) noexcept {
    std::unique_ptr<State> st(static_cast<State*>(h->data));
    if (st->on_closed) {
      st->on_closed();
    }
  });
}

}  // namespace ingestd
