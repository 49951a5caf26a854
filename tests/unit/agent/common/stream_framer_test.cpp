// Unit tests of StreamFramer: newline, octet-counted and auto framing, frames split across every
// feed boundary, CRLF, max_message_bytes in both modes, lying octet counts, close mid-frame.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "plugins/common/stream_framer.h"

namespace ingestd::inputs {
namespace {

FramingSettings settings(FramingMode mode, std::size_t max = 1024) {
  FramingSettings s;
  s.mode = mode;
  s.max_message_bytes = max;
  return s;
}

// A frame as text: its content, then "|t" (truncated), "|e" (framing error), "|i" (incomplete).
std::string show(const Frame& f) {
  std::string s(f.data);
  s += f.truncated ? "|t" : "";
  s += f.framing_error ? "|e" : "";
  s += f.incomplete ? "|i" : "";
  return s;
}

struct Run {
  std::vector<std::string> frames;
  FramerStats stats;
  std::size_t max_buffered = 0;
};

// Feeds `in` in chunks of the given sizes (the last one repeats), then finish().
Run feedChunks(const FramingSettings& s, std::string_view in, std::vector<std::size_t> sizes) {
  Run r;
  StreamFramer f(s);
  auto sink = [&](const Frame& fr) { r.frames.push_back(show(fr)); };
  std::size_t pos = 0;
  std::size_t i = 0;
  while (pos < in.size()) {
    const std::size_t n = std::min(sizes[std::min(i, sizes.size() - 1)], in.size() - pos);
    // A copy per chunk, so a view kept into an earlier chunk would be caught by ASan.
    const std::string chunk(in.substr(pos, n));
    f.feed(chunk, sink);
    r.max_buffered = std::max(r.max_buffered, f.bufferedBytes());
    CHECK(f.maxBufferedBytes() == std::max<std::size_t>(s.max_message_bytes + 1, 9));
    pos += n;
    ++i;
  }
  f.finish(sink);
  r.stats = f.stats();
  return r;
}

Run whole(const FramingSettings& s, std::string_view in) {
  return feedChunks(s, in, {in.size() + 1});
}

std::vector<std::string> frames(const FramingSettings& s, std::string_view in) {
  return whole(s, in).frames;
}

using V = std::vector<std::string>;

// Every way of cutting `in` into two or three pieces, byte by byte, and random chunk sizes must
// give the frames and counters of one feed.
void checkEveryCut(const FramingSettings& s, std::string_view in) {
  const Run ref = whole(s, in);
  auto same = [&](const Run& r) {
    CHECK(r.frames == ref.frames);
    CHECK(r.stats.frames == ref.stats.frames);
    CHECK(r.stats.bytes == ref.stats.bytes);
    CHECK(r.stats.truncated == ref.stats.truncated);
    CHECK(r.stats.framing_errors == ref.stats.framing_errors);
    CHECK(r.stats.incomplete_at_close == ref.stats.incomplete_at_close);
    CHECK(r.stats.dropped_bytes == ref.stats.dropped_bytes);
    CHECK(r.max_buffered <= std::max<std::size_t>(s.max_message_bytes + 1, kMaxOctetDigits));
  };
  same(feedChunks(s, in, {1}));
  for (std::size_t a = 1; a < in.size(); ++a) {
    same(feedChunks(s, in, {a, in.size()}));
    for (std::size_t b = 1; a + b < in.size(); b += 3) {
      same(feedChunks(s, in, {a, b, in.size()}));
    }
  }
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::size_t> sizes;
    for (std::size_t total = 0; total < in.size();) {
      sizes.push_back(1 + rng() % 17);
      total += sizes.back();
    }
    same(feedChunks(s, in, sizes));
  }
}

}  // namespace

TEST_CASE("stream framer: newline frames, one CR stripped, empty lines skipped") {
  const auto s = settings(FramingMode::kNewline);
  CHECK(frames(s, "a\nbb\r\nc\rc\n\n\r\nd\r\r\n") == V{"a", "bb", "c\rc", "d\r"});
  const Run r = whole(s, "a\nbb\r\n");
  CHECK(r.stats.frames == 2);
  CHECK(r.stats.bytes == 3);
  CHECK(r.stats.incomplete_at_close == 0);
}

TEST_CASE("stream framer: newline mode takes digits as content") {
  CHECK(frames(settings(FramingMode::kNewline), "5 abc\n0 x\n") == V{"5 abc", "0 x"});
}

TEST_CASE("stream framer: a frame inside the fed data is not copied") {
  StreamFramer f(settings(FramingMode::kNewline));
  const std::string in = "first\nsec";
  std::vector<const char*> where;
  f.feed(in, [&](const Frame& fr) { where.push_back(fr.data.data()); });
  REQUIRE(where.size() == 1);
  CHECK(where[0] == in.data());
  CHECK(f.bufferedBytes() == 3);

  StreamFramer o(settings(FramingMode::kOctetCounted));
  const std::string oc = "5 hello3 abc";
  where.clear();
  o.feed(oc, [&](const Frame& fr) { where.push_back(fr.data.data()); });
  REQUIRE(where.size() == 2);
  CHECK(where[0] == oc.data() + 2);
  CHECK(where[1] == oc.data() + 9);
}

TEST_CASE("stream framer: newline frames split at every feed boundary") {
  checkEveryCut(settings(FramingMode::kNewline), "alpha\nbe\r\nta\n\n\r\ngamma delta\nrest");
  checkEveryCut(settings(FramingMode::kNewline, 4), "abcd\r\nabcde\nab\r\r\nabcd\rx\nabcdefghij");
}

TEST_CASE("stream framer: newline truncation at max_message_bytes") {
  const auto s = settings(FramingMode::kNewline, 4);
  const Run r = whole(s, "abcd\nabcde\nabcd\r\nabcdefghij\r\nxy\n");
  CHECK(r.frames == V{"abcd", "abcd|t", "abcd", "abcd|t", "xy"});
  CHECK(r.stats.truncated == 2);
  CHECK(r.stats.frames == 5);
  CHECK(r.stats.dropped_bytes == 1 + 7);  // "e", "efghij\r"
  // A CR that would be the max+1-th byte is kept until we know whether LF follows.
  CHECK(frames(s, "abcd\r") == V{"abcd|i"});
  CHECK(frames(s, "abcd\rz\n") == V{"abcd|t"});
}

TEST_CASE("stream framer: a long line costs max_message_bytes of memory, not its length") {
  StreamFramer f(settings(FramingMode::kNewline, 1024));
  std::vector<std::string> got;
  auto sink = [&](const Frame& fr) { got.push_back(show(fr)); };
  const std::string chunk(4096, 'x');
  for (int i = 0; i < 2560; ++i) {  // 10 MiB without a newline
    f.feed(chunk, sink);
    CHECK(f.bufferedBytes() <= 1025);
  }
  f.feed("\nok\n", sink);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == std::string(1024, 'x') + "|t");
  CHECK(got[1] == "ok");
  CHECK(f.stats().dropped_bytes == 10u * 1024 * 1024 - 1024);
}

TEST_CASE("stream framer: octet-counted frames, LFs inside and between frames") {
  const auto s = settings(FramingMode::kOctetCounted);
  CHECK(frames(s, "5 hello3 a\nb11 <13>message\n\r\n2 ok") ==
        V{"hello", "a\nb", "<13>message", "ok"});
  const Run r = whole(s, "5 hello3 abc");
  CHECK(r.stats.framing_errors == 0);
  CHECK(r.stats.bytes == 8);
}

TEST_CASE("stream framer: octet-counted frames split at every feed boundary") {
  checkEveryCut(settings(FramingMode::kOctetCounted), "5 hello3 a\nb\n12 <13>message\n1 x");
  checkEveryCut(settings(FramingMode::kOctetCounted, 4), "10 0123456789\n5 abcde4 abcd2 xy7 abc");
}

TEST_CASE("stream framer: octet-counted truncation skips the rest of LEN") {
  const auto s = settings(FramingMode::kOctetCounted, 4);
  const Run r = whole(s, "10 0123456789\n4 abcd5 abcde2 ok");
  CHECK(r.frames == V{"0123|t", "abcd", "abcd|t", "ok"});
  CHECK(r.stats.truncated == 2);
  CHECK(r.stats.dropped_bytes == 7);
}

TEST_CASE("stream framer: a huge octet count is skipped without buffering it") {
  StreamFramer f(settings(FramingMode::kOctetCounted, 100));
  std::vector<std::string> got;
  auto sink = [&](const Frame& fr) { got.push_back(show(fr)); };
  f.feed("999999999 ", sink);
  const std::string chunk(1 << 16, 'y');
  for (int i = 0; i < 64; ++i) {
    f.feed(chunk, sink);
    CHECK(f.bufferedBytes() <= 101);
  }
  REQUIRE(got.size() == 1);
  CHECK(got[0] == std::string(100, 'y') + "|t");
  f.finish(sink);
  CHECK(got.size() == 1);  // already delivered truncated: counted, not delivered again
  CHECK(f.stats().incomplete_at_close == 1);
}

TEST_CASE("stream framer: octet counts that lie are framing errors, delivered up to LF") {
  const auto s = settings(FramingMode::kOctetCounted);
  SUBCASE("not a digit") {
    const Run r = whole(s, "<13>plain line\n5 hello");
    CHECK(r.frames == V{"<13>plain line|e", "hello"});
    CHECK(r.stats.framing_errors == 1);
  }
  SUBCASE("leading zero and LEN 0") {
    const Run r = whole(s, "05 hello\n0 \n3 abc");
    CHECK(r.frames == V{"05 hello|e", "0 |e", "abc"});
    CHECK(r.stats.framing_errors == 2);
  }
  SUBCASE("a non-digit inside the count") {
    CHECK(frames(s, "12a34 x\n2 ok") == V{"12a34 x|e", "ok"});
  }
  SUBCASE("more than nine digits") {
    const Run r = whole(s, "1234567890 x\n2 ok");
    CHECK(r.frames == V{"1234567890 x|e", "ok"});
    CHECK(r.stats.framing_errors == 1);
  }
  SUBCASE("nine digits are a count, a leading zero is not") {
    CHECK(frames(s, "000000001 x") == V{"000000001 x|e|i"});
    CHECK(frames(settings(FramingMode::kOctetCounted, 4), "100000000 abcdef") == V{"abcd|t"});
  }
  SUBCASE("a bad header without LF is bounded by max_message_bytes") {
    const Run r = whole(settings(FramingMode::kOctetCounted, 8), "abcdefghijklmnop\n2 ok");
    CHECK(r.frames == V{"abcdefgh|t|e", "ok"});
  }
  SUBCASE("split at every boundary") {
    checkEveryCut(s, "<13>x\n05 hello\n0 \n12a34 x\n1234567890 x\n2 ok3 end");
    checkEveryCut(settings(FramingMode::kOctetCounted, 5), "abcdefghij\n123456789012345\n1 x");
  }
}

TEST_CASE("stream framer: a connection closed mid-frame is counted and flagged") {
  SUBCASE("newline") {
    const Run r = whole(settings(FramingMode::kNewline), "done\npart");
    CHECK(r.frames == V{"done", "part|i"});
    CHECK(r.stats.incomplete_at_close == 1);
    CHECK(r.stats.frames == 1);
  }
  SUBCASE("octet-counted body") {
    const Run r = whole(settings(FramingMode::kOctetCounted), "3 abc10 abc");
    CHECK(r.frames == V{"abc", "abc|i"});
    CHECK(r.stats.incomplete_at_close == 1);
  }
  SUBCASE("octet-counted header") {
    CHECK(frames(settings(FramingMode::kOctetCounted), "3 abc12") == V{"abc", "12|i"});
    CHECK(frames(settings(FramingMode::kOctetCounted), "3 abc12 ") == V{"abc", "|i"});
    // Found by fuzz_stream_framer: the digits of a header are bounded by max_message_bytes too.
    CHECK(frames(settings(FramingMode::kAuto, 2), "123456") == V{"12|t|i"});
  }
  SUBCASE("truncated line") {
    const Run r = whole(settings(FramingMode::kNewline, 3), "abcdef");
    CHECK(r.frames == V{"abc|t"});
    CHECK(r.stats.incomplete_at_close == 1);
  }
  SUBCASE("nothing in progress") {
    const Run r = whole(settings(FramingMode::kAuto), "3 abc\r\n");
    CHECK(r.frames == V{"abc"});
    CHECK(r.stats.incomplete_at_close == 0);
  }
  SUBCASE("the framer starts over after finish") {
    StreamFramer f(settings(FramingMode::kOctetCounted));
    V got;
    auto sink = [&](const Frame& fr) { got.push_back(show(fr)); };
    f.feed("5 ab", sink);
    f.finish(sink);
    f.feed("2 ok", sink);
    f.finish(sink);
    CHECK(got == V{"ab|i", "ok"});
  }
}

TEST_CASE("stream framer: auto mode decides per frame") {
  const auto s = settings(FramingMode::kAuto);
  const std::string in =
      "<13>newline one\n"
      "17 <13>octet counted"
      "<14>newline two\r\n"
      "\n"
      "2024-01-01 looks like digits\n"
      "0 starts with zero\n"
      "1234567890 ten digits\n"
      "4 a\nbc";
  const Run r = whole(s, in);
  CHECK(r.frames == V{"<13>newline one", "<13>octet counted", "<14>newline two",
                      "2024-01-01 looks like digits", "0 starts with zero", "1234567890 ten digits",
                      "a\nbc"});
  CHECK(r.stats.framing_errors == 0);
  checkEveryCut(s, in);
  checkEveryCut(settings(FramingMode::kAuto, 6), in);
}

TEST_CASE("stream framer: auto mode reads a line that starts like a header as octet-counted") {
  // The documented ambiguity: "3 OK" is a count of 3, so the frame is "OK\n".
  CHECK(frames(settings(FramingMode::kAuto), "3 OK\nnext\n") == V{"OK\n", "next"});
}

TEST_CASE("stream framer: mode names") {
  CHECK(framingModeName(FramingMode::kNewline) == "newline");
  CHECK(framingModeName(FramingMode::kOctetCounted) == "octet-counted");
  CHECK(framingModeName(FramingMode::kAuto) == "auto");
}

}  // namespace ingestd::inputs
