// Line framing for the tail input, as a pure function: bytes in, complete records out, with the
// max_line_bytes rule (truncate or split) applied and counted. No I/O, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ingestd::inputs {

enum class LongLineMode : std::uint8_t {
  kTruncate,  // keep the first max_line_bytes bytes, drop the rest of the line (counted)
  kSplit,     // emit the line as several records of at most max_line_bytes bytes
};

struct FramingOptions {
  std::size_t max_line_bytes = 1u << 20;  // content bytes, not counting the '\n'
  LongLineMode mode = LongLineMode::kTruncate;
};

// What framing remembers between calls for one file.
struct FramerState {
  bool discarding = false;  // inside a truncated long line: drop bytes up to the next '\n'
  bool in_split = false;    // inside a long line already cut at least once (split mode)
};

struct FrameResult {
  // Input bytes consumed: records emitted plus bytes dropped. input[consumed, end) is an
  // incomplete line (at most max_line_bytes long) to be framed again with more data.
  std::size_t consumed = 0;
  std::uint64_t records = 0;
  // True when the records are exactly input[0, consumed) (the common case: no copy needed);
  // otherwise they are in `out`.
  bool verbatim = true;
  std::string out;
  std::uint64_t truncated_lines = 0;  // lines cut to max_line_bytes (truncate mode)
  std::uint64_t split_lines = 0;      // lines cut into several records (split mode)
  std::uint64_t dropped_bytes = 0;    // bytes dropped from truncated lines
};

// Frames `input` (the carried incomplete line followed by newly read bytes). Every record in the
// result ends with '\n'; a "\r\n" ending is kept as it is, and an empty line is an (empty)
// record. With `flush`, a trailing incomplete line is emitted too (a '\n' is appended): used when
// partial_line_timeout expires or a file is released.
FrameResult frameLines(std::string_view input, const FramingOptions& options, FramerState& state,
                       bool flush);

// The records of a result as one string (for tests and callers that need a copy).
inline std::string recordsOf(std::string_view input, const FrameResult& r) {
  return r.verbatim ? std::string(input.substr(0, r.consumed)) : r.out;
}

}  // namespace ingestd::inputs
