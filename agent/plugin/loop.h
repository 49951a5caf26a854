// The loop as plugins see it: timers, work for libuv's thread pool (blocking file-system calls)
// and directory watches. Loop thread only, unless said otherwise; every callback runs on the loop
// thread. Plugins never touch libuv themselves: what they need is added here, once, for all.
//
// Loop is opaque here (agent/loop/loop.h is the core's): plugins get one in PluginContext and
// only hand it to the types and functions below.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/core/status.h"

namespace ingestd {

class Loop;

// A one-shot or repeating timer. Destroying the Timer stops it; the handle's memory is freed in
// its close callback, so a Timer may be destroyed at any time, also from its own callback.
// (Implemented with the Loop in agent/loop/loop.cpp: the core's timers are the same type.)
class Timer {
 public:
  explicit Timer(Loop& loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // fn runs once after `timeout` (or every `interval`) until stop(), a new start or destruction.
  void start(std::chrono::milliseconds timeout, std::function<void()> fn);
  void startRepeating(std::chrono::milliseconds interval, std::function<void()> fn);
  void stop();
  bool active() const;

 private:
  struct State;  // the uv_timer_t and the callback (agent/loop/loop.cpp)
  State* state_;
};

// Runs `work` on libuv's thread pool, then `done` on the loop thread. For blocking file-system
// calls only (open, read, fsync, rename, close): the pool is small and shared with libuv's own
// file and DNS work, so CPU-heavy jobs (compression, encoding) go to the worker pool instead.
//
// `work` touches no loop object. `done` runs exactly once, after `work` returned, also while the
// loop shuts down; it is never dropped. So the caller either keeps alive what `done` touches
// until it ran (count the work in flight and finish stop() only at zero, as the tail input
// does), or guards `done` with a cancellation token: capture a std::weak_ptr of a token the
// instance owns and return early once it expired (as the kusto output's token files do). `done`
// may be empty. Nothing may throw out of `work` or `done` (a throw ends the process).
void fileWork(Loop& loop, std::function<void()> work, std::function<void()> done);

// One event of a watched directory.
struct FsEvent {
  std::string dir;                  // the watched directory, as the kernel reports it
  std::optional<std::string> name;  // the entry concerned; nullopt when the kernel did not say
  bool change = false;              // an entry's content or attributes changed
  bool rename = false;              // an entry was created, deleted or renamed
  // The watch reported an error (e.g. the event queue overflowed): what changed is unknown,
  // look again (rescan). dir, name, change and rename are empty then.
  bool failed = false;
};

// Watches one directory for changes of its entries (inotify on Linux, through uv_fs_event_t).
// A watch is a hint, never the only way to find data: events can be lost (queue overflow, watch
// limits), so inputs also rescan on a timer.
class FsWatch {
 public:
  explicit FsWatch(Loop& loop);
  // Closes the handle if close() was not called; no callback runs after that.
  ~FsWatch();
  FsWatch(const FsWatch&) = delete;
  FsWatch& operator=(const FsWatch&) = delete;

  // Starts watching `dir`; on_event runs for every event until close(). Errors: kNotFound when
  // dir does not exist, else kIo (e.g. the inotify watch limit); the message is
  // `Cannot watch directory "DIR" (REASON)`, without a full stop, for the caller to go on. A
  // watch that failed to start is closed like any other.
  Status start(const std::string& dir, std::function<void(const FsEvent&)> on_event);
  // Stops watching; done (may be empty) runs once the handle is closed. No event after this.
  // At most once.
  void close(std::function<void()> done);

 private:
  struct State;  // the uv_fs_event_t, freed by its close callback (agent/plugin/loop.cpp)
  State* state_;
  bool closed_ = false;
};

}  // namespace ingestd
