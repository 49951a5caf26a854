// RecordChunk: the unit inputs hand to the pipeline: many complete records in one contiguous
// buffer (not one heap object per record), with the metadata they share.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agent/core/clock.h"

namespace ingestd {

// How the bytes of a chunk are framed and what each record holds.
enum class RecordFormat : std::uint8_t {
  kLines,      // each record is one line of raw text, terminated by '\n' ("\r\n" tolerated)
  kJsonLines,  // each record is one line holding a JSON object from the source (parser: json)
  // Each record is a 4-byte little-endian length followed by that many bytes, which may hold
  // '\n' (socket frames: an octet-counted syslog message, a multiline record). appendFramed()
  // writes one.
  kFramed,
  kFramedJson,  // kFramed, each record holding a JSON object from the source (parser: json)
};

class Parser;

// Immutable facts about where a chunk's records came from, shared by many chunks.
struct SourceInfo {
  std::string input;   // input instance name, e.g. "nginx"
  std::string tag;     // routing tag, e.g. "nginx.access"
  std::string source;  // file path or peer address: the "source" field of each record
  RecordFormat format = RecordFormat::kLines;
  // Set (not with kJsonLines): the encoder parses each record into fields (agent/plugin/
  // parser.h); a record that does not parse is sent whole as "message" and counted.
  std::shared_ptr<const Parser> parser;
  // The "host" of records that carry none of their own (syslog: the sending peer's address);
  // empty: the agent's hostname (service.hostname).
  std::string host;
};

// Appends one kFramed record to `data`.
inline void appendFramed(std::string& data, std::string_view record) {
  const auto n = static_cast<std::uint32_t>(record.size());
  const char len[4] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                       static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 24) & 0xff)};
  data.append(len, 4);
  data.append(record);
}

struct RecordChunk {
  std::shared_ptr<const SourceInfo> source;
  // Complete records; for kLines/kJsonLines every record ends with '\n'; kFramed: see above.
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
