// libFuzzer harness: Multiline (plugins/common/multiline.h). The first bytes choose the rules (a
// preset, or start/continue patterns taken from the input, which may not compile), max_lines,
// max_bytes and when the clock jumps; the lines that follow are pushed with contiguous byte
// ranges. Every line must end up in exactly one record, records must tile the input in order,
// stay within max_lines and max_bytes, and hold their lines' text (unless truncated).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "plugins/common/multiline.h"

namespace {

using ingestd::Clock;
using ingestd::inputs::ByteRange;
using ingestd::inputs::Multiline;
using ingestd::inputs::MultilineRecord;
using ingestd::inputs::MultilineSettings;

void check(bool ok, const char* what, int line) {
  if (!ok) {
    std::fprintf(stderr, "multiline invariant failed: %s (line %d)\n", what, line);
    std::abort();
  }
}
#define CHECK(c) check((c), #c, __LINE__)

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) {
    return 0;
  }
  MultilineSettings s;
  s.max_lines = 1 + data[1] % 16;
  s.max_bytes = 1 + data[2] % 200;
  s.timeout = std::chrono::milliseconds(data[3] % 4 == 0 ? 0 : 100);
  std::string_view rest(reinterpret_cast<const char*>(data) + 4, size - 4);
  switch (data[0] % 6) {
    case 0: s.preset = "java"; break;
    case 1: s.preset = "python"; break;
    case 2: s.preset = "go"; break;
    default: {  // patterns: the first line(s) of the input
      auto take = [&rest]() {
        const std::size_t nl = rest.find('\n');
        std::string p(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        return p;
      };
      if (data[0] % 6 != 4) {
        s.start = take();
      }
      if (data[0] % 6 != 3) {
        s.continue_pattern = take();
      }
      break;
    }
  }
  auto created = Multiline::create(s);
  if (!created) {
    return 0;  // a pattern that does not compile
  }
  Multiline m = std::move(created).value();

  const std::string_view stream = rest;
  std::uint64_t covered = 0;  // the records so far tile [0, covered)
  std::uint64_t lines_out = 0;
  auto sink = [&](const MultilineRecord& r) {
    CHECK(r.range.begin == covered);
    CHECK(r.range.end > r.range.begin);
    CHECK(r.lines >= 1 && r.lines <= s.max_lines);
    CHECK(r.text.size() <= s.max_bytes);
    if (!r.truncated) {
      std::string_view bytes = stream.substr(r.range.begin, r.range.end - r.range.begin);
      if (!bytes.empty() && bytes.back() == '\n') {
        bytes.remove_suffix(1);
      }
      CHECK(r.text == bytes);
    }
    covered = r.range.end;
    lines_out += r.lines;
  };
  Clock::Monotonic now{};
  std::uint64_t lines_in = 0;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    const std::size_t nl = stream.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? stream.size() : nl + 1;
    const std::size_t len = (nl == std::string_view::npos ? stream.size() : nl) - pos;
    const std::string_view line = stream.substr(pos, len);
    // Some lines arrive late: the clock moves by the line's first byte.
    now += std::chrono::milliseconds(line.empty() ? 0 : static_cast<std::uint8_t>(line[0]) % 160);
    m.flushExpired(now, sink);
    m.push(line, ByteRange{pos, end}, now, sink);
    ++lines_in;
    if (m.pendingBegin()) {
      CHECK(*m.pendingBegin() == covered);
    } else {
      CHECK(covered == end);
    }
    pos = end;
  }
  m.flush(sink);
  CHECK(!m.hasPending());
  CHECK(covered == stream.size());
  CHECK(lines_out == lines_in);
  CHECK(m.stats().lines == lines_in);
  return 0;
}
