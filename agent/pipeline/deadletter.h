// DeadLetter: writes blocks that will never be delivered to <state_dir>/deadletter/, a data
// file plus a JSON file that says why. Writes run on libuv's pool (blocking I/O + fsync).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "agent/core/status.h"
#include "agent/loop/loop.h"

namespace ingestd {

struct DeadLetterEntry {
  std::string output;       // output instance name
  std::string destination;  // e.g. "Logs.NginxAccess"
  std::string block_id;
  std::string reason;  // rejected, retries_exhausted, record_too_large, ...
  int http_status = 0;
  std::string error_code;
  std::string message;  // never holds a secret
  std::uint32_t attempts = 0;
  std::uint64_t records = 0;
  std::uint64_t raw_bytes = 0;
  std::string format;  // multijson, csv, ...
  // The data: gzip bytes (is_gzip) or raw encoded records.
  std::shared_ptr<const std::string> data;
  bool is_gzip = true;
};

// The JSON document written next to the data file. Pure.
std::string deadLetterJson(const DeadLetterEntry& entry, std::string_view data_file,
                           std::string_view time_iso);

// Bytes a dead letter is charged against max_size beyond its data (the .json file).
inline constexpr std::uint64_t kDeadLetterJsonBytes = 1024;

// The dead-letter directory with a size cap. Loop thread only.
class DeadLetter {
 public:
  static constexpr std::uint64_t kDefaultMaxSize = 1ull << 30;

  DeadLetter(Loop& loop, std::string dir, std::uint64_t max_size = kDefaultMaxSize)
      : loop_(loop), dir_(std::move(dir)), max_size_(max_size) {}

  // Loop thread. Adds up the files already in the directory (on libuv's pool) so that the cap
  // counts what earlier runs left there. done() runs on the loop thread; may be empty.
  void start(std::function<void()> done = nullptr);

  // Loop thread. done(status) runs on the loop thread, exactly once:
  //  - ok: both files are durable (fsync'ed, renamed, directory fsync'ed);
  //  - kUnavailable: the directory holds max_size already; nothing was written (the caller
  //    applies the "full" policy: the block is dropped, counted and logged);
  //  - any other error: the write failed (not a directory, disk full, ...); nothing usable was
  //    left behind and the caller keeps the block and tries again later.
  void write(DeadLetterEntry entry, std::function<void(Status)> done);

  const std::string& dir() const { return dir_; }
  std::uint64_t usedBytes() const { return used_; }
  std::uint64_t maxSize() const { return max_size_; }

 private:
  Loop& loop_;
  std::string dir_;
  std::uint64_t max_size_;
  std::uint64_t used_ = 0;  // bytes in the directory, including writes in progress
};

// Sum of the sizes of the regular files in `dir` (0 when it does not exist). Blocking.
std::uint64_t directoryBytes(const std::string& dir);

// Blocking helpers (for libuv pool threads and one-shot commands).
Status makeDirs(const std::string& path);
Status writeFileDurably(const std::string& path, std::string_view data);

}  // namespace ingestd
