// libFuzzer harness: StreamFramer (plugins/common/stream_framer.h). The first bytes choose the
// mode, max_message_bytes and how the stream is cut into reads; the framer must give the same
// frames and counters whatever the cut, keep every frame within max_message_bytes, never hold
// more than maxBufferedBytes(), and never put an LF into a newline frame.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/common/stream_framer.h"

namespace {

using ingestd::inputs::Frame;
using ingestd::inputs::FramerStats;
using ingestd::inputs::FramingMode;
using ingestd::inputs::FramingSettings;
using ingestd::inputs::StreamFramer;

void check(bool ok, const char* what, int line) {
  if (!ok) {
    std::fprintf(stderr, "stream framer invariant failed: %s (line %d)\n", what, line);
    std::abort();
  }
}
#define CHECK(c) check((c), #c, __LINE__)

struct Out {
  std::vector<std::string> frames;  // content plus a flags byte
  FramerStats stats;
};

// Feeds `stream` in reads whose sizes come from `seed` (0: one read), then finish().
Out run(const FramingSettings& s, std::string_view stream, std::uint32_t seed) {
  Out out;
  StreamFramer f(s);
  auto sink = [&](const Frame& fr) {
    CHECK(fr.data.size() <= s.max_message_bytes);
    if (s.mode == FramingMode::kNewline && !fr.incomplete) {
      CHECK(fr.data.find('\n') == std::string_view::npos);
      CHECK(!fr.data.empty());
    }
    std::string rec(fr.data);
    rec += static_cast<char>('0' + (fr.truncated ? 1 : 0) + (fr.framing_error ? 2 : 0) +
                             (fr.incomplete ? 4 : 0));
    out.frames.push_back(std::move(rec));
  };
  std::size_t pos = 0;
  while (pos < stream.size()) {
    std::size_t n = stream.size() - pos;
    if (seed != 0) {
      seed = seed * 1103515245u + 12345u;
      n = std::min<std::size_t>(1 + (seed >> 16) % 24, n);
    }
    const std::string chunk(stream.substr(pos, n));  // a copy: no view may outlive its read
    f.feed(chunk, sink);
    CHECK(f.bufferedBytes() <= f.maxBufferedBytes());
    pos += n;
  }
  f.finish(sink);
  CHECK(f.atFrameBoundary());
  out.stats = f.stats();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) {
    return 0;
  }
  FramingSettings s;
  s.mode = static_cast<FramingMode>(data[0] % 3);
  s.max_message_bytes = 1 + data[1] % 48;
  const std::uint32_t seed = 1u + data[2];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 3, size - 3);

  const Out whole = run(s, stream, 0);
  const Out cut = run(s, stream, seed);
  CHECK(whole.frames == cut.frames);
  CHECK(whole.stats.frames == cut.stats.frames);
  CHECK(whole.stats.bytes == cut.stats.bytes);
  CHECK(whole.stats.truncated == cut.stats.truncated);
  CHECK(whole.stats.framing_errors == cut.stats.framing_errors);
  CHECK(whole.stats.incomplete_at_close == cut.stats.incomplete_at_close);
  CHECK(whole.stats.dropped_bytes == cut.stats.dropped_bytes);
  CHECK(whole.stats.incomplete_at_close <= 1);
  CHECK(whole.stats.frames + whole.stats.incomplete_at_close >= whole.frames.size());
  if (s.mode == FramingMode::kAuto || s.mode == FramingMode::kNewline) {
    CHECK(whole.stats.framing_errors == 0);
  }
  // Delivered plus dropped bytes never exceed the input.
  CHECK(whole.stats.bytes + whole.stats.dropped_bytes <= stream.size());
  return 0;
}
