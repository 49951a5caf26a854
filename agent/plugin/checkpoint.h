// Checkpoints of inputs that read files: for each file its identity and the offset below which
// every byte was acknowledged by every output, kept in one file per input instance
// (PluginContext::checkpointStore()). The file's format and the blocking helpers behind the
// store are the core's (agent/checkpoint/checkpoint_file.h); see AckTracker
// (agent/plugin/ack_tracker.h) for computing the acknowledged offset.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/log.h"

namespace ingestd {

class Loop;
struct CheckpointWriter;

// One file: its identity (device, inode and a fingerprint of its first bytes) and the offset
// below which every byte has been acknowledged by every output.
struct CheckpointEntry {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint32_t fingerprint_len = 0;   // bytes hashed (first min(N, size) bytes of the file)
  std::uint64_t fingerprint_hash = 0;  // hash of those bytes
  std::uint64_t offset = 0;            // committed offset
  std::string path;                    // last known path, for diagnostics only
  std::int64_t last_seen_unix_ms = 0;  // when the file was last open or matched by a scan

  bool operator==(const CheckpointEntry&) const = default;
};

struct CheckpointData {
  // Every file the input matched before this time is in `entries` (the tail input sets it to the
  // start of its last complete scan, minus a margin for coarse file timestamps). At restart, an
  // unknown file modified after it was written while we were not looking: read from the head.
  std::int64_t saved_at_unix_ms = 0;
  std::vector<CheckpointEntry> entries;

  bool operator==(const CheckpointData&) const = default;
};

// What was found at start-up.
struct LoadedCheckpoint {
  enum class State {
    kMissing,  // no file: first run
    kLoaded,
    kCorrupt,  // unreadable or invalid; moved to `<path>.corrupt`; `error` says why
  };
  State state = State::kMissing;
  CheckpointData data;
  std::string error;
};

// The checkpoint file of one input instance. Reads and writes run on libuv's thread pool: a
// write goes to `<path>.tmp`, is fsynced, renamed over `path`, and the directory is fsynced; one
// write runs at a time and while it runs only the newest data waits. Loop thread only.
class CheckpointStore {
 public:
  // PluginContext::checkpointStore() makes one; `component` names the instance in log lines
  // ("input tail/nginx").
  CheckpointStore(Loop& loop, Logger& log, std::string component, std::string path);
  // A write in flight still completes (it holds what it needs); setOnIdle's callback does not
  // run any more.
  ~CheckpointStore();
  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  const std::string& path() const;

  // Reads and decodes the file off the loop; done(what was found) runs on the loop thread,
  // exactly once, as fileWork() promises (keep what it touches alive, or guard it). A corrupt
  // file is renamed to `<path>.corrupt` (replacing an older copy) for an operator to look at.
  void load(std::function<void(LoadedCheckpoint)> done);

  // Never blocks: encodes `data` now and writes it off the loop. A failed write is logged (error,
  // rate-limited) and remembered in lastFailed(); the previous file stays in place.
  void save(const CheckpointData& data);

  bool writing() const;          // a write is running (and maybe newer data waiting)
  bool lastFailed() const;       // the last write failed: save again even if nothing changed
  std::uint64_t writes() const;  // writes completed, ok or not
  // fn runs (loop thread) each time a write completes with nothing waiting.
  void setOnIdle(std::function<void()> fn);

 private:
  Loop& loop_;
  // Shared with the write in flight, so that a write may finish after the store is gone.
  std::shared_ptr<CheckpointWriter> writer_;
};

}  // namespace ingestd
