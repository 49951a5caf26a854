// The tail checkpoint file: a versioned, checksummed JSON document mapping file identity to the
// committed (acknowledged) offset, plus the blocking helpers that read and atomically replace it.
// encode/decode are pure; loadCheckpointFile/writeCheckpointFile block and must run off the loop
// (on libuv's pool). The entries (agent/plugin/checkpoint.h) and the CheckpointStore plugins use
// are the plugin API's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/status.h"
#include "agent/plugin/checkpoint.h"

namespace ingestd {

inline constexpr int kCheckpointVersion = 1;
inline constexpr std::string_view kCheckpointFormat = "ingestd-tail-checkpoint";

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

// Blocking. Reads and decodes `path`. A corrupt file is renamed to `<path>.corrupt` (replacing
// an older copy) so that an operator can look at it and the next save starts clean.
LoadedCheckpoint loadCheckpointFile(const std::string& path);

}  // namespace ingestd
