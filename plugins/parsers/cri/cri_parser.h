// The cri parser: Kubernetes container runtime (CRI) log lines,
//   2016-10-06T00:17:09.669794202Z stdout F message text
// into stream, logtag and message, the time into ParsedRecord::time_unix_ns. A line is at most
// one chunk of what the container wrote: the runtime splits long lines into partial chunks
// (tag P) ended by a full one (tag F). Joining them needs state across lines, which a const
// Parser cannot keep, so CriReassembler does it for the input that reads the file (the tail
// input will feed its lines through one per file before parsing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/status.h"
#include "agent/plugin/config.h"
#include "agent/plugin/parser.h"

namespace ingestd::parsers {

// The parts of a CRI line (views into it), or nullopt when it is not one: a time token, a
// stream of stdout or stderr, a tag, then (after one space) the message, which may be empty.
struct CriLine {
  std::string_view time;
  std::string_view stream;
  std::string_view logtag;
  std::string_view message;
  bool partial = false;  // the tag's first ':'-separated part is "P"
};
std::optional<CriLine> splitCriLine(std::string_view line);
// Whether `line` is a CRI partial chunk (P), to be joined with the lines after it.
bool isCriPartial(std::string_view line);

// Joins CRI partial chunks into whole lines, per stream (stdout and stderr interleave in one
// file). Not thread-safe: one per file, on the thread that reads it.
//
// feed() takes each line and returns the line to parse when one is complete: the line itself
// when it is a full line with nothing pending on its stream (no copy) or not CRI at all, or the
// joined line "<time of the first chunk> <stream> F <messages joined>". A joined message longer
// than max_bytes is truncated there; the dropped bytes are counted in truncatedBytes(). The
// returned view is valid until the next call.
class CriReassembler {
 public:
  explicit CriReassembler(std::size_t max_bytes = std::size_t{1} << 20);

  std::optional<std::string_view> feed(std::string_view line);
  // A pending partial line as a complete one (at end of file, rotation or a timeout), one stream
  // per call; nullopt when nothing is pending.
  std::optional<std::string_view> flush();
  bool pending() const { return streams_[0].active || streams_[1].active; }
  std::uint64_t truncatedBytes() const { return truncated_bytes_; }

 private:
  struct Pending {
    std::string line;  // header and the messages so far
    std::size_t header_len = 0;
    bool active = false;
  };
  void append(Pending& p, std::string_view message);
  std::string_view finish(Pending& p);

  std::size_t max_bytes_;
  Pending streams_[2];  // stdout, stderr
  std::string out_;
  std::uint64_t truncated_bytes_ = 0;
};

struct CriSettings {};

class CriParser final : public Parser {
 public:
  static constexpr std::string_view kName = "cri";
  using Settings = CriSettings;
  // `parser: cri` (the mapping form takes no keys but `type`).
  static Result<Settings> parse(const ConfigNode& node);
  static Result<std::unique_ptr<Parser>> create(const Settings& settings);

  // Parser: false when the line is not CRI or its time is not RFC 3339 with an offset.
  bool parse(std::string_view record, ParsedRecord& out) const override;
  std::string_view name() const override { return kName; }
};

}  // namespace ingestd::parsers
