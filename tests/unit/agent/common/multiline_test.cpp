// Unit tests of Multiline: start/continue rules, the java/python/go presets on real traces,
// max_lines/max_bytes cuts, the timeout, and byte ranges that cover exactly the lines consumed.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "plugins/common/multiline.h"

namespace ingestd::inputs {
namespace {

using std::chrono::milliseconds;
using Time = Clock::Monotonic;

struct Rec {
  std::string text;
  ByteRange range;
  std::uint32_t lines = 0;
  bool truncated = false;
  MultilineEnd end = MultilineEnd::kNextRecord;
};

Multiline make(const MultilineSettings& s) {
  auto m = Multiline::create(s);
  REQUIRE(m.isOk());
  return std::move(m).value();
}

MultilineSettings preset(std::string name) {
  MultilineSettings s;
  s.preset = std::move(name);
  return s;
}

// Pushes every '\n'-terminated line of `text` (the last one may lack it) with its byte range,
// all at time `now`, then flushes.
std::vector<Rec> run(Multiline& m, std::string_view text, Time now = Time{}) {
  std::vector<Rec> out;
  auto sink = [&](const MultilineRecord& r) {
    out.push_back({std::string(r.text), r.range, r.lines, r.truncated, r.end});
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    const std::size_t len = (nl == std::string_view::npos ? text.size() : nl) - pos;
    m.push(text.substr(pos, len), {pos, end}, now, sink);
    pos = end;
  }
  m.flush(sink);
  return out;
}

// The records tile the input, and each one's text is exactly its bytes, lines joined by '\n'.
void checkCoverage(std::string_view text, const std::vector<Rec>& recs) {
  std::uint64_t at = 0;
  std::uint64_t lines = 0;
  for (const Rec& r : recs) {
    CHECK(r.range.begin == at);
    CHECK(r.range.end > r.range.begin);
    std::string bytes(text.substr(r.range.begin, r.range.end - r.range.begin));
    if (!bytes.empty() && bytes.back() == '\n') {
      bytes.pop_back();
    }
    if (!r.truncated) {
      CHECK(r.text == bytes);
    }
    at = r.range.end;
    lines += r.lines;
  }
  CHECK(at == text.size());
  std::uint64_t expected_lines = 0;
  for (char c : text) {
    expected_lines += c == '\n' ? 1 : 0;
  }
  if (!text.empty() && text.back() != '\n') {
    ++expected_lines;
  }
  CHECK(lines == expected_lines);
}

std::vector<std::string> texts(const std::vector<Rec>& recs) {
  std::vector<std::string> v;
  v.reserve(recs.size());
  for (const Rec& r : recs) {
    v.push_back(r.text);
  }
  return v;
}

const std::string kJavaLog =
    "2024-05-01 12:00:00.123 INFO  [main] com.example.App - Starting\n"
    "2024-05-01 12:00:01.456 ERROR [main] com.example.App - Request failed\n"
    "java.lang.IllegalStateException: connection pool exhausted\n"
    "\tat com.example.db.Pool.acquire(Pool.java:142)\n"
    "\tat com.example.db.Repo.find(Repo.java:57)\n"
    "\tat com.example.App.main(App.java:21)\n"
    "Caused by: java.net.SocketTimeoutException: connect timed out\n"
    "\tat java.base/sun.nio.ch.NioSocketImpl.timedFinishConnect(NioSocketImpl.java:546)\n"
    "\tat java.base/java.net.Socket.connect(Socket.java:633)\n"
    "\t... 3 more\n"
    "\tSuppressed: java.io.IOException: close failed\n"
    "\t\tat com.example.db.Pool.close(Pool.java:200)\n"
    "\t\t... 4 common frames omitted\n"
    "2024-05-01 12:00:02.000 INFO  [main] com.example.App - Retrying\n"
    "Exception in thread \"main\" java.lang.NullPointerException: Cannot invoke "
    "\"String.length()\" because \"s\" is null\n"
    "\tat com.example.App.run(App.java:30)\n"
    "\tat com.example.App.main(App.java:12)\n";

const std::string kPythonLog =
    "2024-05-01 12:00:00,001 INFO worker started\n"
    "2024-05-01 12:00:01,002 ERROR job failed\n"
    "Traceback (most recent call last):\n"
    "  File \"/app/worker.py\", line 42, in run\n"
    "    result = self.process(job)\n"
    "  File \"/app/worker.py\", line 57, in process\n"
    "    return int(job[\"count\"])\n"
    "ValueError: invalid literal for int() with base 10: 'abc'\n"
    "Traceback (most recent call last):\n"
    "  File \"/app/a.py\", line 2, in <module>\n"
    "    1 / 0\n"
    "ZeroDivisionError: division by zero\n"
    "\n"
    "During handling of the above exception, another exception occurred:\n"
    "\n"
    "Traceback (most recent call last):\n"
    "  File \"/app/a.py\", line 4, in <module>\n"
    "    raise RuntimeError(\"wrapped\")\n"
    "RuntimeError: wrapped\n"
    "2024-05-01 12:00:03,004 INFO done\n";

const std::string kGoLog =
    "2024/05/01 12:00:00 server listening on :8080\n"
    "panic: runtime error: index out of range [5] with length 3\n"
    "\n"
    "goroutine 1 [running]:\n"
    "main.lookup(...)\n"
    "\t/app/main.go:12\n"
    "main.main()\n"
    "\t/app/main.go:8 +0x1d\n"
    "exit status 2\n"
    "2024/05/01 12:00:01 restarted\n"
    "2024/05/01 12:00:02 http: panic serving 10.0.0.1:5555: boom\n"
    "goroutine 33 [running]:\n"
    "net/http.(*conn).serve.func1()\n"
    "\t/usr/local/go/src/net/http/server.go:1898 +0xbe\n"
    "panic({0x6b5a40?, 0x7c2f10?})\n"
    "\t/usr/local/go/src/runtime/panic.go:920 +0x270\n"
    "main.handler({0x7c5e58?, 0xc0001b0000?}, 0x0?)\n"
    "\t/app/main.go:20 +0x25\n"
    "created by net/http.(*Server).Serve in goroutine 1\n"
    "\t/usr/local/go/src/net/http/server.go:3086 +0x5cb\n"
    "2024/05/01 12:00:03 shutting down (took 2s)\n";

// The lines [first, last] of `text` joined with '\n'.
std::string linesOf(const std::string& text, int first, int last) {
  std::vector<std::string> all;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    all.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::string out;
  for (int i = first; i <= last; ++i) {
    out += (i == first ? "" : "\n") + all[static_cast<std::size_t>(i)];
  }
  return out;
}

}  // namespace

TEST_CASE("multiline: java preset on a real stack trace") {
  Multiline m = make(preset("java"));
  const auto recs = run(m, kJavaLog);
  REQUIRE(recs.size() == 4);
  CHECK(recs[0].text == linesOf(kJavaLog, 0, 0));
  CHECK(recs[1].text == linesOf(kJavaLog, 1, 12));
  CHECK(recs[1].lines == 12);
  CHECK(recs[1].end == MultilineEnd::kNextRecord);
  CHECK(recs[2].text == linesOf(kJavaLog, 13, 13));
  CHECK(recs[3].text == linesOf(kJavaLog, 14, 16));
  CHECK(recs[3].end == MultilineEnd::kFlush);
  checkCoverage(kJavaLog, recs);
  CHECK(m.stats().records == 4);
  CHECK(m.stats().joined == 2);
  CHECK(m.stats().lines == 17);
}

TEST_CASE("multiline: python preset on tracebacks, chained ones included") {
  Multiline m = make(preset("python"));
  const auto recs = run(m, kPythonLog);
  REQUIRE(recs.size() == 4);
  CHECK(recs[0].text == linesOf(kPythonLog, 0, 0));
  CHECK(recs[1].text == linesOf(kPythonLog, 1, 7));
  CHECK(recs[2].text == linesOf(kPythonLog, 8, 18));
  CHECK(recs[3].text == linesOf(kPythonLog, 19, 19));
  checkCoverage(kPythonLog, recs);
}

TEST_CASE("multiline: python preset, a traceback at the start of the stream") {
  Multiline m = make(preset("python"));
  const auto recs =
      run(m, "Traceback (most recent call last):\n  File \"x\", line 1\nKeyError: 'a'\nnext\n");
  CHECK(texts(recs) ==
        std::vector<std::string>{
            "Traceback (most recent call last):\n  File \"x\", line 1\nKeyError: 'a'", "next"});
}

TEST_CASE("multiline: go preset on panics") {
  Multiline m = make(preset("go"));
  const auto recs = run(m, kGoLog);
  REQUIRE(recs.size() == 5);
  CHECK(recs[0].text == linesOf(kGoLog, 0, 0));
  CHECK(recs[1].text == linesOf(kGoLog, 1, 8));
  CHECK(recs[1].end == MultilineEnd::kComplete);  // "exit status 2" ends it at once
  CHECK(recs[2].text == linesOf(kGoLog, 9, 9));
  CHECK(recs[3].text == linesOf(kGoLog, 10, 19));
  CHECK(recs[4].text == linesOf(kGoLog, 20, 20));
  checkCoverage(kGoLog, recs);
}

TEST_CASE("multiline: start pattern only") {
  MultilineSettings s;
  s.start = R"(^\d{4}-\d{2}-\d{2})";
  Multiline m = make(s);
  const std::string in =
      "  orphan first\n2024-01-01 a\n more\n more2\n2024-01-02 b\n2024-01-03 c\n x";
  const auto recs = run(m, in);
  CHECK(texts(recs) == std::vector<std::string>{"  orphan first", "2024-01-01 a\n more\n more2",
                                                "2024-01-02 b", "2024-01-03 c\n x"});
  checkCoverage(in, recs);
}

TEST_CASE("multiline: continue pattern only") {
  MultilineSettings s;
  s.continue_pattern = R"(^\s)";
  Multiline m = make(s);
  const auto recs = run(m, " lead\na\n b\n c\nd\ne\n f\n");
  CHECK(texts(recs) == std::vector<std::string>{" lead", "a\n b\n c", "d", "e\n f"});
}

TEST_CASE("multiline: start and continue: a line matching neither is a record of its own") {
  MultilineSettings s;
  s.start = "^S";
  s.continue_pattern = R"(^\s)";
  Multiline m = make(s);
  std::vector<Rec> got;
  auto sink = [&](const MultilineRecord& r) {
    got.push_back({std::string(r.text), r.range, r.lines, r.truncated, r.end});
  };
  m.push("S1", {0, 3}, Time{}, sink);
  m.push(" c", {3, 6}, Time{}, sink);
  CHECK(got.empty());
  m.push("x", {6, 8}, Time{}, sink);
  REQUIRE(got.size() == 2);  // emitted at once, not at the next line
  CHECK(got[0].text == "S1\n c");
  CHECK(got[1].text == "x");
  CHECK(got[1].end == MultilineEnd::kComplete);
  CHECK(got[1].range == ByteRange{6, 8});
  CHECK_FALSE(m.hasPending());
}

TEST_CASE("multiline: a start pattern that never matches: records cut at max_lines") {
  MultilineSettings s;
  s.start = "^NEVER";
  s.max_lines = 500;
  Multiline m = make(s);
  std::string in;
  for (int i = 0; i < 1200; ++i) {
    in += "line " + std::to_string(i) + "\n";
  }
  const auto recs = run(m, in);
  REQUIRE(recs.size() == 3);
  CHECK(recs[0].lines == 500);
  CHECK(recs[0].end == MultilineEnd::kMaxLines);
  CHECK(recs[1].lines == 500);
  CHECK(recs[2].lines == 200);
  CHECK(recs[2].end == MultilineEnd::kFlush);
  checkCoverage(in, recs);
  CHECK(m.stats().cut_max_lines == 2);
}

TEST_CASE("multiline: max_lines emits at once, later continuation lines start a new record") {
  MultilineSettings s;
  s.start = "^S";
  s.max_lines = 3;
  Multiline m = make(s);
  const std::string in = "S\na\nb\nc\nd\nS2\n";
  const auto recs = run(m, in);
  CHECK(texts(recs) == std::vector<std::string>{"S\na\nb", "c\nd", "S2"});
  CHECK(recs[0].end == MultilineEnd::kMaxLines);
  CHECK(recs[1].end == MultilineEnd::kNextRecord);
  checkCoverage(in, recs);
}

TEST_CASE("multiline: max_bytes cuts before the line that does not fit") {
  MultilineSettings s;
  s.start = "^S";
  s.max_bytes = 10;
  Multiline m = make(s);
  const std::string in = "Start\nabc\nde\nSx\n0123456789abc\nS\n";
  const auto recs = run(m, in);
  REQUIRE(recs.size() == 5);
  CHECK(recs[0].text == "Start\nabc");
  CHECK(recs[0].end == MultilineEnd::kMaxBytes);
  CHECK(recs[1].text == "de");
  CHECK(recs[2].text == "Sx");
  CHECK(recs[2].end == MultilineEnd::kMaxBytes);
  // A line longer than max_bytes alone: truncated, its range still covering all of it.
  CHECK(recs[3].text == "0123456789");
  CHECK(recs[3].truncated);
  CHECK(recs[3].range == ByteRange{16, 30});
  CHECK(recs[3].end == MultilineEnd::kMaxBytes);
  CHECK(recs[4].text == "S");
  checkCoverage(in, recs);
  CHECK(m.stats().truncated == 1);
  CHECK(m.stats().cut_max_bytes == 3);
}

TEST_CASE("multiline: the timeout counts from the last line, the caller drives time") {
  MultilineSettings s;
  s.start = "^S";
  s.timeout = milliseconds(2000);
  Multiline m = make(s);
  std::vector<Rec> got;
  auto sink = [&](const MultilineRecord& r) {
    got.push_back({std::string(r.text), r.range, r.lines, r.truncated, r.end});
  };
  const Time t0 = Time{} + std::chrono::hours(1);
  CHECK_FALSE(m.deadline().has_value());
  m.push("S1", {0, 3}, t0, sink);
  REQUIRE(m.deadline().has_value());
  CHECK(*m.deadline() == t0 + milliseconds(2000));
  CHECK(m.pendingBegin() == std::optional<std::uint64_t>(0));
  m.flushExpired(t0 + milliseconds(1999), sink);
  CHECK(got.empty());
  m.push(" c", {3, 6}, t0 + milliseconds(1500), sink);
  CHECK(*m.deadline() == t0 + milliseconds(3500));
  m.flushExpired(t0 + milliseconds(3000), sink);
  CHECK(got.empty());
  m.flushExpired(t0 + milliseconds(3500), sink);
  REQUIRE(got.size() == 1);
  CHECK(got[0].text == "S1\n c");
  CHECK(got[0].end == MultilineEnd::kTimeout);
  CHECK(got[0].range == ByteRange{0, 6});
  CHECK_FALSE(m.deadline().has_value());
  CHECK_FALSE(m.pendingBegin().has_value());
  CHECK(m.stats().timeouts == 1);
  // A continuation after the timeout starts a record of its own.
  m.push(" late", {6, 12}, t0 + milliseconds(9000), sink);
  m.flush(sink);
  REQUIRE(got.size() == 2);
  CHECK(got[1].text == " late");
  CHECK(got[1].range == ByteRange{6, 12});
}

TEST_CASE("multiline: timeout 0 waits for the next line") {
  MultilineSettings s;
  s.start = "^S";
  s.timeout = milliseconds(0);
  Multiline m = make(s);
  int n = 0;
  auto sink = [&](const MultilineRecord&) { ++n; };
  m.push("S1", {0, 3}, Time{}, sink);
  CHECK_FALSE(m.deadline().has_value());
  m.flushExpired(Time{} + std::chrono::hours(100), sink);
  CHECK(n == 0);
  CHECK(m.hasPending());
}

TEST_CASE("multiline: ranges follow the caller's offsets (CRLF, a file read from the middle)") {
  MultilineSettings s;
  s.continue_pattern = R"(^\s)";
  Multiline m = make(s);
  std::vector<Rec> got;
  auto sink = [&](const MultilineRecord& r) {
    got.push_back({std::string(r.text), r.range, r.lines, r.truncated, r.end});
  };
  m.push("a", {1000, 1003}, Time{}, sink);  // "a\r\n"
  m.push(" b", {1003, 1007}, Time{}, sink);
  m.push("c", {1007, 1010}, Time{}, sink);
  m.flush(sink);
  REQUIRE(got.size() == 2);
  CHECK(got[0].range == ByteRange{1000, 1007});
  CHECK(got[0].lines == 2);
  CHECK(got[1].range == ByteRange{1007, 1010});
}

TEST_CASE("multiline: settings errors") {
  MultilineSettings none;
  CHECK_FALSE(Multiline::create(none).isOk());
  MultilineSettings bad;
  bad.start = "(abc";
  auto r = Multiline::create(bad);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.error().message.find("offset 4") != std::string::npos);
  CHECK_FALSE(Multiline::create(preset("cobol")).isOk());
  MultilineSettings both = preset("java");
  both.start = "^x";
  CHECK_FALSE(Multiline::create(both).isOk());
}

TEST_CASE("multiline: presets and patterns on lines that are not UTF-8") {
  MultilineSettings s;
  s.start = "^é";
  Multiline m = make(s);
  const std::string in = "\xff\xfe bad\n\xc3\xa9 start\n\xc3 cont\n";
  const auto recs = run(m, in);
  CHECK(recs.size() == 2);
  checkCoverage(in, recs);
}

}  // namespace ingestd::inputs
