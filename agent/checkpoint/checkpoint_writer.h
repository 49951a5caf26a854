// CheckpointWriter: writes checkpoint files one at a time on libuv's thread pool (temp file,
// fsync, rename, directory fsync); while a write is running, only the newest contents wait.
// Loop thread only. Held through a shared_ptr by its work requests, so a write may finish after
// its owner is gone.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <uv.h>

#include "agent/core/log.h"

namespace ingestd {

struct CheckpointWriter {
  uv_loop_t* loop = nullptr;
  Logger* log = nullptr;
  std::string component;  // log component, e.g. "input tail/nginx"
  std::string path;
  bool in_flight = false;
  std::optional<std::string> next;  // newest contents waiting for the write in flight
  std::uint64_t writes = 0;         // writes completed (ok or not)
  bool last_failed = false;         // the last write failed: write again even if nothing changed
  std::function<void()> on_idle;    // after a write completes with nothing waiting

  // Loop thread. Never blocks. A failure is logged (error, rate-limited) and remembered in
  // last_failed; the previous file stays in place.
  static void write(const std::shared_ptr<CheckpointWriter>& self, std::string contents);
};

}  // namespace ingestd
