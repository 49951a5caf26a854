// CRI (Kubernetes container runtime) log lines: splitting one into its parts, and joining the
// partial chunks (tag P) the runtime cuts long lines into. Shared by the cri parser (which
// parses one line) and the tail input (which reassembles a file's chunks before parsing, with
// parser: cri). Pure logic. Namespace ingestd::parsers, like the parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace ingestd::parsers
