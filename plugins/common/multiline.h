// Multiline: joins the lines of one stream (a tailed file, one stream-socket connection) into
// records, e.g. a Java stack trace with the log line before it. Pure logic: the caller pushes
// lines and drives time (deadline() / flushExpired()); no timers, no I/O. One instance per
// stream, used by one thread.
//
// Rules (docs/configuration.md "Multiline" says the same for users):
// - `start` only: a line matching `start` begins a record; every other line joins the record
//   being built (or begins one when none is, e.g. the first line read).
// - `continue` only: a line matching `continue` joins the record being built; every other line
//   begins a record.
// - both: a line matching `start` begins a record, else one matching `continue` joins it, else
//   the line is a record of its own (emitted at once, ending the record being built).
// - a preset (java, python, go) instead of the patterns; see multilinePresets() below.
// - A record ends when the next one begins, when it reaches max_lines (emitted at once), when
//   the next line would make it longer than max_bytes (a single line longer than max_bytes is
//   truncated to it), when no line arrived for `timeout`, or at flush(). Lines after a cut
//   keep joining, as a new record. Nothing is dropped: every pushed line ends up in exactly one
//   record, whose byte range covers it.
// - Lines are joined with '\n'.
//
// Acknowledgement: each record carries the [begin, end) byte range of the input it covers (from
// the first byte of its first line to the end of its last line, terminator included). Pushed in
// stream order with contiguous ranges, the records' ranges tile the stream, so an input that
// acknowledges by range (AckTracker) acknowledges a record only with all of its lines, and
// pendingBegin() says where the bytes not yet handed out as records begin.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "agent/core/clock.h"
#include "agent/core/status.h"
#include "plugins/common/function_ref.h"

namespace ingestd::inputs {

struct MultilineSettings {
  std::string start;                 // regex (PCRE2) a record's first line matches; "" = unused
  std::string continue_pattern;      // regex a continuation line matches; "" = unused
  std::string preset;                // "java", "python", "go"; excludes start / continue
  std::uint32_t max_lines = 500;     // at least 1
  std::size_t max_bytes = 1u << 20;  // text bytes of one record; at least 1
  std::chrono::milliseconds timeout{2000};  // 0: wait for the next line however long
};

// The presets' names, for messages: java, python, go.
std::span<const std::string_view> multilinePresets();

// [begin, end) offsets in the input stream.
struct ByteRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  bool operator==(const ByteRange&) const = default;
};

enum class MultilineEnd : std::uint8_t {
  kNextRecord,  // the next line began a record
  kComplete,    // the rules say it is whole (a line of its own; a Go panic's "exit status")
  kMaxLines,
  kMaxBytes,
  kTimeout,
  kFlush,
};

struct MultilineRecord {
  std::string_view text;  // the lines joined with '\n'; valid only during the sink call
  ByteRange range;        // the input bytes of all its lines
  std::uint32_t lines = 0;
  bool truncated = false;  // a line was cut to fit max_bytes (the range still covers it)
  MultilineEnd end = MultilineEnd::kNextRecord;
};

struct MultilineStats {
  std::uint64_t records = 0;
  std::uint64_t lines = 0;
  std::uint64_t joined = 0;  // records of more than one line
  std::uint64_t cut_max_lines = 0;
  std::uint64_t cut_max_bytes = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t truncated = 0;  // records with a line cut to max_bytes
};

class Multiline {
 public:
  // Called once per record, in stream order, from within push(), flushExpired() or flush().
  // It must not call back into this Multiline.
  using Sink = FunctionRef<void(const MultilineRecord&)>;

  // Compiles the patterns (or the preset). Errors (kInvalidArgument): no pattern and no preset,
  // a preset with patterns, an unknown preset, a bad pattern (PCRE2's message and offset).
  static Result<Multiline> create(const MultilineSettings& settings);

  Multiline(Multiline&&) noexcept;
  Multiline& operator=(Multiline&&) noexcept;
  ~Multiline();

  // One line, without its terminator; `range` covers the line and its terminator. Records this
  // line completes go to `sink`. `now` is when the line was read (for the timeout).
  void push(std::string_view line, ByteRange range, Clock::Monotonic now, Sink sink);
  // When the record being built times out; nullopt when there is none or timeout is 0.
  std::optional<Clock::Monotonic> deadline() const;
  // Emits the record being built if its deadline is at or before `now`.
  void flushExpired(Clock::Monotonic now, Sink sink);
  // Emits the record being built, if any (end of file, connection closed, stop).
  void flush(Sink sink);

  bool hasPending() const;
  // Where the record being built begins: nothing before it is held here.
  std::optional<std::uint64_t> pendingBegin() const;
  const MultilineStats& stats() const;
  const MultilineSettings& settings() const;

 private:
  struct Impl;
  explicit Multiline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ingestd::inputs
