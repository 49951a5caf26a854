// Line framing: memchr from newline to newline; only lines that break the max_line_bytes rule
// (or a flushed partial line) force a copy of the records into a separate buffer.
#include "plugins/inputs/tail/line_framing.h"

#include <cstring>

namespace ingestd::inputs {

namespace {

class Framer {
 public:
  Framer(std::string_view input, FrameResult& r) : in_(input), r_(r) {}

  // Switches to copying: everything consumed so far is records, verbatim.
  void startCopy() {
    if (r_.verbatim) {
      r_.verbatim = false;
      r_.out.assign(in_.data(), r_.consumed);
    }
  }
  void emit(std::size_t from, std::size_t len, bool add_newline) {
    if (!r_.verbatim) {
      r_.out.append(in_.data() + from, len);
      if (add_newline) {
        r_.out.push_back('\n');
      }
    }
    ++r_.records;
  }
  const char* find(std::size_t from) const {
    return static_cast<const char*>(std::memchr(in_.data() + from, '\n', in_.size() - from));
  }

 private:
  std::string_view in_;
  FrameResult& r_;
};

}  // namespace

FrameResult frameLines(std::string_view input, const FramingOptions& options, FramerState& state,
                       bool flush) {
  FrameResult r;
  Framer f(input, r);
  const std::size_t n = input.size();
  const std::size_t max = options.max_line_bytes;
  std::size_t pos = 0;
  while (pos < n) {
    const char* nl = f.find(pos);
    const std::size_t line_end = nl != nullptr ? static_cast<std::size_t>(nl - input.data()) : n;
    const std::size_t len = line_end - pos;  // content bytes, without the '\n'
    if (state.discarding) {
      // The rest of a truncated line: dropped, but its bytes are consumed (the checkpoint offset
      // covers the whole line, so a restart does not resume in its middle).
      f.startCopy();
      r.dropped_bytes += len;
      pos = nl != nullptr ? line_end + 1 : n;
      r.consumed = pos;
      state.discarding = nl == nullptr;
      continue;
    }
    if (len <= max) {
      if (nl != nullptr) {
        f.emit(pos, len + 1, false);
        pos = line_end + 1;
        r.consumed = pos;
        state.in_split = false;
        continue;
      }
      if (flush && len > 0) {
        f.startCopy();
        f.emit(pos, len, true);
        pos = n;
        r.consumed = pos;
        state.in_split = false;
      }
      break;
    }
    // A line longer than max (complete or not yet).
    f.startCopy();
    if (options.mode == LongLineMode::kTruncate) {
      f.emit(pos, max, true);
      ++r.truncated_lines;
      r.dropped_bytes += len - max;
      pos = nl != nullptr ? line_end + 1 : n;
      r.consumed = pos;
      state.discarding = nl == nullptr;
      continue;
    }
    if (!state.in_split) {
      ++r.split_lines;
      state.in_split = true;
    }
    std::size_t rest = len;
    while (rest > max) {
      f.emit(pos, max, true);
      pos += max;
      rest -= max;
    }
    r.consumed = pos;
    // What is left (at most max) is either the end of the line or an incomplete piece that the
    // next pass of the loop handles like any other line.
  }
  return r;
}

}  // namespace ingestd::inputs
