// libFuzzer harness: the tail input's line framer. The first bytes choose the options and how the
// stream is cut into reads; the framer must give the same records whatever the cut, keep every
// record within max_line_bytes, and account for every input byte (record, newline or dropped).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "plugins/inputs/tail/line_framing.h"

namespace {

using ingestd::inputs::FrameResult;
using ingestd::inputs::FramerState;
using ingestd::inputs::FramingOptions;
using ingestd::inputs::LongLineMode;

void check(bool ok, const char* what, int line) {
  if (!ok) {
    std::fprintf(stderr, "line framing invariant failed: %s (line %d)\n", what, line);
    std::abort();
  }
}
#define CHECK(c) check((c), #c, __LINE__)

struct Totals {
  std::string records;
  std::uint64_t count = 0;
  std::uint64_t truncated = 0;
  std::uint64_t split = 0;
  std::uint64_t dropped = 0;
};

// One call, checked on its own: what the tail input does with each read.
void frameOnce(std::string& carry, const FramingOptions& o, FramerState& st, bool flush,
               Totals& t) {
  const FrameResult r = frameLines(carry, o, st, flush);
  CHECK(r.consumed <= carry.size());
  const std::string recs = ingestd::inputs::recordsOf(carry, r);
  if (r.verbatim) {
    CHECK(recs == carry.substr(0, r.consumed));
  }
  std::uint64_t newlines = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    if (recs[i] == '\n') {
      CHECK(i - start <= o.max_line_bytes);  // content of one record
      start = i + 1;
      ++newlines;
    }
  }
  CHECK(start == recs.size());  // every record ends with '\n'
  CHECK(newlines == r.records);
  if (o.mode == LongLineMode::kSplit) {
    CHECK(r.dropped_bytes == 0 && r.truncated_lines == 0);
  } else {
    CHECK(r.split_lines == 0);
  }
  const std::string_view rest = std::string_view(carry).substr(r.consumed);
  CHECK(rest.find('\n') == std::string_view::npos);
  CHECK(rest.size() <= o.max_line_bytes);
  CHECK(!flush || rest.empty());
  t.records += recs;
  t.count += r.records;
  t.truncated += r.truncated_lines;
  t.split += r.split_lines;
  t.dropped += r.dropped_bytes;
  carry.erase(0, r.consumed);
}

std::uint64_t nonNewlineBytes(std::string_view s) {
  std::uint64_t n = 0;
  for (char c : s) {
    n += c != '\n' ? 1 : 0;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) {
    return 0;
  }
  FramingOptions o;
  o.mode = (data[0] & 1) != 0 ? LongLineMode::kSplit : LongLineMode::kTruncate;
  o.max_line_bytes = 1 + data[1] % 64;
  std::uint32_t cut_seed = data[2];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 3, size - 3);

  // Reference: the whole stream in one read, then the final flush.
  Totals whole;
  {
    FramerState st;
    std::string carry(stream);
    frameOnce(carry, o, st, true, whole);
  }
  // The same stream in reads of 1..16 bytes, flushed at the end.
  Totals cut;
  {
    FramerState st;
    std::string carry;
    std::size_t pos = 0;
    while (pos < stream.size()) {
      cut_seed = cut_seed * 1103515245u + 12345u;
      const std::size_t n = std::min<std::size_t>(1 + (cut_seed >> 16) % 16, stream.size() - pos);
      carry.append(stream.substr(pos, n));
      pos += n;
      frameOnce(carry, o, st, false, cut);
    }
    frameOnce(carry, o, st, true, cut);
  }
  CHECK(cut.records == whole.records);
  CHECK(cut.count == whole.count);
  CHECK(cut.truncated == whole.truncated);
  CHECK(cut.split == whole.split);
  CHECK(cut.dropped == whole.dropped);
  // Every input byte is a record byte, a newline or dropped; framing only adds newlines.
  CHECK(nonNewlineBytes(whole.records) + whole.dropped == nonNewlineBytes(stream));
  if (o.mode == LongLineMode::kTruncate) {
    std::uint64_t lines = 0;
    for (char c : stream) {
      lines += c == '\n' ? 1 : 0;
    }
    if (!stream.empty() && stream.back() != '\n') {
      ++lines;
    }
    CHECK(whole.count == lines);
  }
  return 0;
}
