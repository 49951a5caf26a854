// RecordChunk: the unit inputs hand to the pipeline: many complete records in one contiguous
// buffer (not one heap object per record), with the metadata they share.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "agent/core/clock.h"

namespace ingestd {

// How the bytes of a chunk are framed and what each record holds.
enum class RecordFormat : std::uint8_t {
  kLines,      // each record is one line of raw text, terminated by '\n' ("\r\n" tolerated)
  kJsonLines,  // each record is one line holding a JSON object from the source (parser: json)
};

// Immutable facts about where a chunk's records came from, shared by many chunks.
struct SourceInfo {
  std::string input;   // input instance name, e.g. "nginx"
  std::string tag;     // routing tag, e.g. "nginx.access"
  std::string source;  // file path or peer address: the "source" field of each record
  RecordFormat format = RecordFormat::kLines;
};

struct RecordChunk {
  std::shared_ptr<const SourceInfo> source;
  // Complete records; for kLines/kJsonLines every record ends with '\n'.
  std::string data;
  // Number of records in data (inputs count them while framing; it is cheap there).
  std::uint64_t records = 0;
  // Timestamp given to every record of the chunk (when it was read).
  Clock::Wall time{};
  // Loop thread, called exactly once when every output that received the chunk has
  // acknowledged (or permanently rejected and dead-lettered) all of its records. Tail inputs
  // advance their committable offset here. May be empty.
  std::function<void()> on_ack;
};

}  // namespace ingestd
