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
  std::string reason;       // rejected, retries_exhausted, record_too_large, ...
  int http_status = 0;
  std::string error_code;
  std::string message;      // never holds a secret
  std::uint32_t attempts = 0;
  std::uint64_t records = 0;
  std::uint64_t raw_bytes = 0;
  std::string format;       // multijson, csv, ...
  // The data: gzip bytes (is_gzip) or raw encoded records.
  std::shared_ptr<const std::string> data;
  bool is_gzip = true;
};

// The JSON document written next to the data file. Pure.
std::string deadLetterJson(const DeadLetterEntry& entry, std::string_view data_file,
                           std::string_view time_iso);

class DeadLetter {
 public:
  DeadLetter(Loop& loop, std::string dir) : loop_(loop), dir_(std::move(dir)) {}
  // Loop thread. done(status) runs on the loop thread after the files are durable.
  void write(DeadLetterEntry entry, std::function<void(Status)> done);
  const std::string& dir() const { return dir_; }

 private:
  Loop& loop_;
  std::string dir_;
};

// Blocking helpers (for libuv pool threads and one-shot commands).
Status makeDirs(const std::string& path);
Status writeFileDurably(const std::string& path, std::string_view data);

}  // namespace ingestd
