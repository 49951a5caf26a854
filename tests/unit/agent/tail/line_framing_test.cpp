// Unit tests of the tail line framing: complete lines, CRLF, empty lines, partial lines and the
// max_line_bytes rule in both modes, including lines that arrive across several reads.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "plugins/inputs/tail/line_framing.h"

namespace ingestd::inputs {
namespace {

FramingOptions opts(std::size_t max, LongLineMode mode = LongLineMode::kTruncate) {
  FramingOptions o;
  o.max_line_bytes = max;
  o.mode = mode;
  return o;
}

// Feeds `pieces` one after the other the way the tail input does (carrying the unconsumed rest),
// and returns every record emitted plus the total consumed.
struct Fed {
  std::string records;
  std::uint64_t count = 0;
  std::uint64_t consumed = 0;
  std::uint64_t truncated = 0;
  std::uint64_t split = 0;
  std::string rest;
};
Fed feed(const std::vector<std::string>& pieces, const FramingOptions& o, bool flush_at_end) {
  Fed out;
  FramerState st;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    out.rest += pieces[i];
    bool flush = flush_at_end && i + 1 == pieces.size();
    FrameResult r = frameLines(out.rest, o, st, flush);
    out.records += recordsOf(out.rest, r);
    out.count += r.records;
    out.consumed += r.consumed;
    out.truncated += r.truncated_lines;
    out.split += r.split_lines;
    out.rest.erase(0, r.consumed);
  }
  return out;
}

}  // namespace

TEST_CASE("framing: complete lines pass through verbatim") {
  FramerState st;
  std::string in = "a\nbb\nccc\n";
  auto r = frameLines(in, opts(1024), st, false);
  CHECK(r.verbatim);
  CHECK(r.records == 3);
  CHECK(r.consumed == in.size());
  CHECK(recordsOf(in, r) == in);
}

TEST_CASE("framing: the incomplete last line is kept") {
  FramerState st;
  std::string in = "one\ntwo\nthr";
  auto r = frameLines(in, opts(1024), st, false);
  CHECK(r.records == 2);
  CHECK(r.consumed == 8);
  CHECK(r.verbatim);
}

TEST_CASE("framing: no newline at all consumes nothing unless flushed") {
  FramerState st;
  std::string in = "partial";
  auto r = frameLines(in, opts(1024), st, false);
  CHECK(r.records == 0);
  CHECK(r.consumed == 0);
  auto f = frameLines(in, opts(1024), st, true);
  CHECK(f.records == 1);
  CHECK(f.consumed == in.size());
  CHECK(recordsOf(in, f) == "partial\n");
}

TEST_CASE("framing: CRLF is kept, empty lines are records") {
  FramerState st;
  std::string in = "a\r\n\n\r\nb\n";
  auto r = frameLines(in, opts(1024), st, false);
  CHECK(r.records == 4);
  CHECK(r.consumed == in.size());
  CHECK(recordsOf(in, r) == in);
}

TEST_CASE("framing: exactly max_line_bytes is not truncated, one more is") {
  FramerState st;
  std::string exact(16, 'x');
  std::string in = exact + "\n";
  auto r = frameLines(in, opts(16), st, false);
  CHECK(r.verbatim);
  CHECK(r.truncated_lines == 0);
  std::string longer = std::string(17, 'y') + "\n";
  auto r2 = frameLines(longer, opts(16), st, false);
  CHECK(r2.records == 1);
  CHECK(r2.truncated_lines == 1);
  CHECK(r2.dropped_bytes == 1);
  CHECK(r2.consumed == longer.size());  // the checkpoint covers the whole line
  CHECK(recordsOf(longer, r2) == std::string(16, 'y') + "\n");
}

TEST_CASE("framing: truncate a long line arriving over several reads") {
  std::string line(100, 'z');
  auto fed = feed({"a\n" + line.substr(0, 30), line.substr(30, 40), line.substr(70) + "\nb\n"},
                  opts(20), false);
  CHECK(fed.records == "a\n" + std::string(20, 'z') + "\nb\n");
  CHECK(fed.count == 3);
  CHECK(fed.truncated == 1);
  CHECK(fed.consumed == 2 + 100 + 1 + 2);
  CHECK(fed.rest.empty());
}

TEST_CASE("framing: split a long line into pieces, across reads") {
  std::string line;
  for (int i = 0; i < 50; ++i) {
    line.push_back(static_cast<char>('a' + i % 26));
  }
  auto fed = feed({line.substr(0, 13), line.substr(13, 20), line.substr(33) + "\n"},
                  opts(16, LongLineMode::kSplit), false);
  CHECK(fed.records == line.substr(0, 16) + "\n" + line.substr(16, 16) + "\n" +
                           line.substr(32, 16) + "\n" + line.substr(48) + "\n");
  CHECK(fed.count == 4);
  CHECK(fed.split == 1);
  CHECK(fed.consumed == line.size() + 1);
}

TEST_CASE("framing: split exactly 2 * max has no empty piece") {
  FramerState st;
  std::string in = std::string(32, 'q') + "\n";
  auto r = frameLines(in, opts(16, LongLineMode::kSplit), st, false);
  CHECK(r.records == 2);
  CHECK(recordsOf(in, r) == std::string(16, 'q') + "\n" + std::string(16, 'q') + "\n");
}

TEST_CASE("framing: flush of a truncated line in progress emits nothing more") {
  FramerState st;
  std::string in = std::string(40, 'w');
  auto r = frameLines(in, opts(16), st, false);
  CHECK(r.records == 1);
  CHECK(r.consumed == 40);
  CHECK(st.discarding);
  std::string more = "www\nnext\n";
  auto r2 = frameLines(more, opts(16), st, false);
  CHECK(r2.records == 1);
  CHECK(recordsOf(more, r2) == "next\n");
  CHECK(r2.consumed == more.size());
  CHECK_FALSE(st.discarding);
}

TEST_CASE("framing: consumed always equals input minus the kept rest") {
  // Byte-by-byte delivery must give the same records as one big read.
  std::string text = "alpha\n\nbeta\r\n" + std::string(70, 'L') + "\ngamma";
  std::vector<std::string> bytes;
  for (char c : text) {
    bytes.emplace_back(1, c);
  }
  for (auto mode : {LongLineMode::kTruncate, LongLineMode::kSplit}) {
    auto one = feed({text}, opts(32, mode), true);
    auto many = feed(bytes, opts(32, mode), true);
    CHECK(one.records == many.records);
    CHECK(one.count == many.count);
    CHECK(one.consumed == text.size());
    CHECK(many.consumed == text.size());
  }
}

}  // namespace ingestd::inputs
