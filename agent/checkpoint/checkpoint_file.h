// The tail checkpoint file: a versioned, checksummed JSON document mapping file identity to the
// committed (acknowledged) offset, plus the blocking helpers that read and atomically replace it.
// encode/decode are pure; readCheckpointFile/writeCheckpointFile block and must run off the loop
// (inside uv_queue_work).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/status.h"

namespace ingestd {

inline constexpr int kCheckpointVersion = 1;
inline constexpr std::string_view kCheckpointFormat = "ingestd-tail-checkpoint";

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

// Pure. One JSON object: {"format", "version", "crc32", "body": {"saved_at", "files": [...]}};
// crc32 covers the canonical serialisation of "body", so a flipped digit is detected even though
// the JSON still parses. Ends with a newline.
std::string encodeCheckpoint(const CheckpointData& data);

// Pure. kDataLoss naming `file_name` when the text is truncated, not JSON, has the wrong format
// or version, or fails the checksum.
Result<CheckpointData> decodeCheckpoint(std::string_view text, std::string_view file_name);

// Blocking. Writes `<path>.tmp`, fsyncs it, renames it over `path`, fsyncs the directory.
// kIo naming the file on any failure (the old file is then left untouched).
Status writeCheckpointFile(const std::string& path, std::string_view contents);

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

// Blocking. Reads and decodes `path`. A corrupt file is renamed to `<path>.corrupt` (replacing
// an older copy) so that an operator can look at it and the next save starts clean.
LoadedCheckpoint loadCheckpointFile(const std::string& path);

}  // namespace ingestd
