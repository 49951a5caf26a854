// Integration tests of the tail input on a real loop with real files: every line exactly once
// (or, after a restart, at least once) through appends, rotation, truncation, deletion, inode
// reuse, restarts from the checkpoint, pause/resume, long lines and partial lines.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/checkpoint/checkpoint_file.h"
#include "agent/core/clock.h"
#include "agent/core/log.h"
#include "agent/loop/loop.h"
#include "agent/loop/worker_pool.h"
#include "agent/metrics/metrics.h"
#include "agent/plugin/plugin.h"
#include "plugins/inputs/tail/file_identity.h"
#include "plugins/inputs/tail/tail_input.h"
#include "tests/support/loop_wait.h"
#include "tests/support/temp_dir.h"

namespace ingestd::inputs {
namespace {

using namespace std::chrono_literals;
using test::runLoopFor;
using test::runLoopUntil;

// Records every chunk; acknowledges immediately (auto_ack) or when the test says so.
class FakeSink : public RecordSink {
 public:
  void push(RecordChunk chunk) override {
    if (on_push) {
      on_push(chunk);
    }
    records += chunk.records;
    std::string_view data = chunk.data;
    std::size_t counted = 0;
    const RecordFormat format = chunk.source->format;
    while (!data.empty() &&
           (format == RecordFormat::kFramed || format == RecordFormat::kFramedJson)) {
      REQUIRE(data.size() >= 4);  // multiline: length-prefixed records
      const auto* p = reinterpret_cast<const unsigned char*>(data.data());
      const std::size_t n = p[0] | (p[1] << 8) | (p[2] << 16) | (std::size_t{p[3]} << 24);
      REQUIRE(data.size() >= 4 + n);
      lines[chunk.source->source].emplace_back(data.substr(4, n));
      all.emplace_back(data.substr(4, n));
      data.remove_prefix(4 + n);
      ++counted;
    }
    while (!data.empty()) {
      auto nl = data.find('\n');
      REQUIRE(nl != std::string_view::npos);  // every record ends with '\n'
      lines[chunk.source->source].emplace_back(data.substr(0, nl));
      all.emplace_back(data.substr(0, nl));
      data.remove_prefix(nl + 1);
      ++counted;
    }
    CHECK(counted == chunk.records);
    if (auto_ack) {
      if (chunk.on_ack) {
        chunk.on_ack();
      }
    } else {
      pending.push_back(std::move(chunk));
    }
  }
  void ackFirst(std::size_t n) {
    for (std::size_t i = 0; i < n && i < pending.size(); ++i) {
      if (pending[i].on_ack) {
        pending[i].on_ack();
        pending[i].on_ack = nullptr;
      }
    }
  }

  bool auto_ack = true;
  std::function<void(const RecordChunk&)> on_push;
  std::uint64_t records = 0;
  std::vector<std::string> all;
  std::map<std::string, std::vector<std::string>> lines;  // by source path
  std::vector<RecordChunk> pending;
};

struct Harness {
  test::TempDir dir;
  Loop loop;
  WorkerPool pool{loop, 1};
  SystemClock clock;
  Logger log{LogLevel::kWarn};
  Metrics metrics;
  InputMetrics im = metrics.forInput("t");
  PluginContext ctx{"tail/t", "t", loop, pool, clock, log, dir.path(), "host", &im, nullptr};
  FakeSink sink;
  std::unique_ptr<TailInput> input;

  TailInput::Settings settings(std::vector<std::string> paths, bool head = true) {
    TailInput::Settings s;
    s.tag = "t";
    s.paths = std::move(paths);
    s.read_from_head = head;
    s.scan_interval = 50ms;
    s.partial_line_timeout = 0ms;
    s.state_file = dir.file("state.json");
    return s;
  }

  void start(TailInput::Settings s) {
    input = std::make_unique<TailInput>(std::move(s), ctx);
    Loop::markLoopThread();
    REQUIRE(input->start(sink).isOk());
    REQUIRE(runLoopUntil(
        loop, [&] { return input->readyForTest(); }, 5s));
  }

  void stop() {
    bool stopped = false;
    input->checkpoint();
    input->stop([&] { stopped = true; });
    REQUIRE(runLoopUntil(
        loop, [&] { return stopped; }, 5s));
    input.reset();
  }

  ~Harness() {
    if (input) {
      stop();
    }
    CHECK(loop.shutdown() == 0);
  }

  double event(std::string_view kind) { return im.event(kind).Value(); }
};

void append(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
}

std::string numbered(int from, int to, const std::string& prefix = "line") {
  std::string out;
  for (int i = from; i < to; ++i) {
    out += prefix + std::to_string(i) + "\n";
  }
  return out;
}

std::vector<std::string> expected(int from, int to, const std::string& prefix = "line") {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) {
    out.push_back(prefix + std::to_string(i));
  }
  return out;
}

}  // namespace

TEST_CASE("tail: read_from head reads existing lines, then appended ones") {
  Harness h;
  std::string f = h.dir.file("a.log");
  append(f, numbered(0, 3));
  h.start(h.settings({h.dir.path() + "/*.log"}));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 3; }, 5s));
  append(f, numbered(3, 5));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 5; }, 5s));
  CHECK(h.sink.lines[f] == expected(0, 5));
  CHECK(h.im.records->Value() == 5);
  CHECK(h.event("opened") == 1);
}

TEST_CASE("tail: read_from tail skips existing lines, new files are read from the head") {
  Harness h;
  std::string f = h.dir.file("a.log");
  append(f, numbered(0, 3) + "partial-at-start");
  h.start(h.settings({h.dir.path() + "/*.log"}, /*head=*/false));
  runLoopFor(h.loop, 100ms);
  CHECK(h.sink.records == 0);
  append(f, "-completed\n" + numbered(3, 5));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 3; }, 5s));
  // The line being written at start is read whole, not from its middle.
  std::vector<std::string> want{"partial-at-start-completed"};
  for (auto& l : expected(3, 5)) {
    want.push_back(l);
  }
  CHECK(h.sink.lines[f] == want);
  // A file created after start is read from its first byte.
  std::string g = h.dir.file("b.log");
  append(g, numbered(0, 4, "b"));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.lines[g].size() == 4; }, 5s));
  CHECK(h.sink.lines[g] == expected(0, 4, "b"));
}

TEST_CASE("tail: many appends while running arrive once and in order") {
  Harness h;
  std::string f = h.dir.file("a.log");
  append(f, "");
  h.start(h.settings({f}));
  for (int batch = 0; batch < 20; ++batch) {
    append(f, numbered(batch * 100, batch * 100 + 100));
    runLoopFor(h.loop, 2ms);
  }
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 2000; }, 10s));
  CHECK(h.sink.lines[f] == expected(0, 2000));
}

TEST_CASE("tail: rename rotation while writing loses and duplicates nothing") {
  Harness h;
  std::string f = h.dir.file("app.log");
  append(f, "");
  h.start(h.settings({f}));  // the rotated name is NOT matched by the glob
  int next = 0;
  for (int gen = 0; gen < 5; ++gen) {
    // Write, rotate by rename, the writer keeps writing to the old file for a moment, then
    // reopens the new path.
    int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    REQUIRE(fd >= 0);
    for (int i = 0; i < 3; ++i) {
      std::string chunk = numbered(next, next + 50);
      next += 50;
      REQUIRE(::write(fd, chunk.data(), chunk.size()) == static_cast<ssize_t>(chunk.size()));
      runLoopFor(h.loop, 1ms);
    }
    std::string rotated = f + "." + std::to_string(gen);
    REQUIRE(::rename(f.c_str(), rotated.c_str()) == 0);
    std::string late = numbered(next, next + 30);  // written after the rename: old inode
    next += 30;
    REQUIRE(::write(fd, late.data(), late.size()) == static_cast<ssize_t>(late.size()));
    ::close(fd);
  }
  append(f, numbered(next, next + 10));
  next += 10;
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records >= static_cast<std::uint64_t>(next); }, 10s));
  runLoopFor(h.loop, 200ms);
  // Every line exactly once, in order (every file is read in order, and files were written one
  // after another).
  std::vector<std::string> got = h.sink.all;
  CHECK(got.size() == static_cast<std::size_t>(next));
  std::sort(got.begin(), got.end());
  auto want = expected(0, next);
  std::sort(want.begin(), want.end());
  CHECK(got == want);
  CHECK(h.event("rotated") >= 5);
  // Rotated files are released once read to the end and idle for a scan interval.
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.input->openFilesForTest() == 1; }, 5s));
}

TEST_CASE("tail: copytruncate starts again at 0 and counts it") {
  Harness h;
  std::string f = h.dir.file("a.log");
  append(f, numbered(0, 100));
  h.start(h.settings({f}));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 100; }, 5s));
  REQUIRE(::truncate(f.c_str(), 0) == 0);
  append(f, numbered(0, 5, "new"));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 105; }, 5s));
  auto lines = h.sink.lines[f];
  CHECK(std::vector<std::string>(lines.begin() + 100, lines.end()) == expected(0, 5, "new"));
  CHECK(h.event("truncated_file") == 1);
}

TEST_CASE("tail: truncate-and-rewrite to a larger size is caught by the fingerprint") {
  Harness h;
  std::string f = h.dir.file("a.log");
  append(f, numbered(0, 3, "old"));
  h.start(h.settings({f}));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 3; }, 5s));
  h.input->pause();
  runLoopFor(h.loop, 20ms);
  // Rewritten in place: longer than before, different first bytes.
  int fd = ::open(f.c_str(), O_WRONLY | O_TRUNC);
  REQUIRE(fd >= 0);
  std::string text = numbered(0, 10, "NEW");
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
  h.input->resume();
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.event("truncated_file") == 1; }, 5s));
  REQUIRE(runLoopUntil(
      h.loop,
      [&] {
        auto& l = h.sink.lines[f];
        return std::find(l.begin(), l.end(), "NEW0") != l.end() && l.back() == "NEW9";
      },
      5s));
  auto& l = h.sink.lines[f];
  // Whatever was read from the middle before the change was seen, the new file is read whole.
  auto first_new = std::find(l.begin() + 3, l.end(), "NEW0");
  REQUIRE(first_new != l.end());
  CHECK(std::vector<std::string>(first_new, l.end()) == expected(0, 10, "NEW"));
}

TEST_CASE("tail: a deleted file is read to its end, then released") {
  Harness h;
  std::string f = h.dir.file("a.log");
  append(f, numbered(0, 10));
  h.start(h.settings({f}));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 10; }, 5s));
  h.input->pause();
  append(f, numbered(10, 5000));
  REQUIRE(::unlink(f.c_str()) == 0);
  runLoopFor(h.loop, 150ms);  // scans run while paused: the file must not be dropped
  h.input->resume();
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 5000; }, 5s));
  CHECK(h.sink.lines[f] == expected(0, 5000));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.input->openFilesForTest() == 0; }, 5s));
  CHECK(h.event("deleted") == 1);
  CHECK(h.event("rotated") == 0);
}

// A read's probe may see the deletion before a scan misses the file, or after: either way it is
// one 'deleted' and never also a 'rotated'. Each round races the two on purpose.
TEST_CASE("tail: a file deleted while it is being read is one 'deleted', never a 'rotated'") {
  Harness h;
  h.start(h.settings({h.dir.file("*.log")}));
  constexpr int kRounds = 12;
  int expect_records = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::string f = h.dir.file("r" + std::to_string(round) + ".log");
    append(f, numbered(0, 2000 + round * 500));
    expect_records += 2000 + round * 500;
    REQUIRE(runLoopUntil(
        h.loop, [&] { return h.input->openFilesForTest() > 0; }, 5s));
    REQUIRE(::unlink(f.c_str()) == 0);
    REQUIRE(runLoopUntil(
        h.loop, [&] { return h.input->openFilesForTest() == 0; }, 10s));
  }
  CHECK(h.sink.records == expect_records);
  CHECK(h.event("rotated") == 0);
  CHECK(h.event("deleted") == h.event("opened"));
}

TEST_CASE("tail: pause stops reading, resume continues exactly where it stopped") {
  Harness h;
  std::string f = h.dir.file("a.log");
  append(f, numbered(0, 10));
  auto s = h.settings({f});
  s.read_chunk_bytes = 4096;
  h.start(std::move(s));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 10; }, 5s));
  h.input->pause();
  runLoopFor(h.loop, 20ms);
  std::uint64_t before = h.sink.records;
  append(f, numbered(10, 3000));
  runLoopFor(h.loop, 200ms);
  CHECK(h.sink.records == before);
  h.input->resume();
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 3000; }, 5s));
  CHECK(h.sink.lines[f] == expected(0, 3000));
}

TEST_CASE("tail: only acknowledged offsets survive a restart") {
  Harness h;
  std::string f = h.dir.file("a.log");
  h.sink.auto_ack = false;
  append(f, numbered(0, 100));
  auto s = h.settings({f});
  h.start(s);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 100; }, 5s));
  append(f, numbered(100, 200));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 200; }, 5s));
  REQUIRE(h.sink.pending.size() >= 2);
  // Acknowledge only the first chunk (lines 0..99 were one read).
  std::size_t acked_lines = 0;
  {
    std::string_view d = h.sink.pending[0].data;
    acked_lines = static_cast<std::size_t>(std::count(d.begin(), d.end(), '\n'));
  }
  h.sink.ackFirst(1);
  h.stop();
  auto loaded = loadCheckpointFile(s.state_file);
  REQUIRE(loaded.state == LoadedCheckpoint::State::kLoaded);
  REQUIRE(loaded.data.entries.size() == 1);
  CHECK(loaded.data.entries[0].offset == numbered(0, static_cast<int>(acked_lines)).size());

  // "Restart": a new instance with the same state re-reads exactly what was not acknowledged.
  FakeSink sink2;
  h.input = std::make_unique<TailInput>(s, h.ctx);
  REQUIRE(h.input->start(sink2).isOk());
  REQUIRE(runLoopUntil(
      h.loop, [&] { return sink2.records == 200 - acked_lines; }, 5s));
  runLoopFor(h.loop, 100ms);
  CHECK(sink2.lines[f] == expected(static_cast<int>(acked_lines), 200));
}

TEST_CASE("tail: restart during rotation resumes the rotated file from its checkpoint") {
  Harness h;
  std::string f = h.dir.file("app.log");
  append(f, numbered(0, 50));
  auto s = h.settings({f + "*"});
  h.start(s);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 50; }, 5s));
  h.stop();
  // While we are down: more lines, rotation by rename, a new file.
  append(f, numbered(50, 80));
  REQUIRE(::rename(f.c_str(), (f + ".1").c_str()) == 0);
  append(f, numbered(0, 20, "new"));
  FakeSink sink2;
  s.read_from_head = false;  // must not matter: the new file was written while we were down
  h.input = std::make_unique<TailInput>(s, h.ctx);
  REQUIRE(h.input->start(sink2).isOk());
  REQUIRE(runLoopUntil(
      h.loop, [&] { return sink2.records == 50; }, 5s));
  runLoopFor(h.loop, 100ms);
  CHECK(sink2.lines[f + ".1"] == expected(50, 80));
  CHECK(sink2.lines[f] == expected(0, 20, "new"));
}

TEST_CASE("tail: a recycled inode with a different fingerprint is a new file") {
  Harness h;
  std::string f = h.dir.file("a.log");
  append(f, numbered(0, 10, "fresh"));
  struct stat st {};
  REQUIRE(::stat(f.c_str(), &st) == 0);
  // A checkpoint left by an older file that had the same device and inode.
  CheckpointData old;
  old.saved_at_unix_ms = 0;
  old.entries.push_back(CheckpointEntry{static_cast<std::uint64_t>(st.st_dev),
                                        static_cast<std::uint64_t>(st.st_ino), 6,
                                        fingerprintOf("other\n").hash, 30, "/old/path", 0});
  auto s = h.settings({f}, /*head=*/true);
  REQUIRE(writeCheckpointFile(s.state_file, encodeCheckpoint(old)).isOk());
  h.start(s);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 10; }, 5s));
  CHECK(h.sink.lines[f] == expected(0, 10, "fresh"));
}

TEST_CASE("tail: a matching identity resumes from the saved offset") {
  Harness h;
  std::string f = h.dir.file("a.log");
  std::string text = numbered(0, 10);
  append(f, text);
  struct stat st {};
  REQUIRE(::stat(f.c_str(), &st) == 0);
  auto fp = fingerprintOf(text);
  CheckpointData saved;
  saved.saved_at_unix_ms = 0;
  saved.entries.push_back(CheckpointEntry{static_cast<std::uint64_t>(st.st_dev),
                                          static_cast<std::uint64_t>(st.st_ino), fp.len, fp.hash,
                                          numbered(0, 4).size(), f, 0});
  auto s = h.settings({f}, /*head=*/true);
  REQUIRE(writeCheckpointFile(s.state_file, encodeCheckpoint(saved)).isOk());
  h.start(s);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 6; }, 5s));
  runLoopFor(h.loop, 50ms);
  CHECK(h.sink.lines[f] == expected(4, 10));
}

TEST_CASE("tail: a corrupt checkpoint is kept aside and files are read from the head") {
  Harness h;
  std::string f = h.dir.file("a.log");
  append(f, numbered(0, 10));
  auto s = h.settings({f}, /*head=*/false);
  append(s.state_file, "{\"format\":\"ingestd-tail-checkp");
  h.start(s);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 10; }, 5s));
  CHECK(std::filesystem::exists(s.state_file + ".corrupt"));
  h.stop();
  CHECK(loadCheckpointFile(s.state_file).state == LoadedCheckpoint::State::kLoaded);
}

TEST_CASE("tail: long lines are truncated or split and counted, offsets stay right") {
  for (auto mode : {LongLineMode::kTruncate, LongLineMode::kSplit}) {
    Harness h;
    std::string f = h.dir.file("a.log");
    std::string big(5000, 'x');
    append(f, "a\n" + big + "\nb\n");
    auto s = h.settings({f});
    s.max_line_bytes = 1024;
    s.long_lines = mode;
    s.read_chunk_bytes = 4096;
    h.start(s);
    std::uint64_t want = mode == LongLineMode::kTruncate ? 3 : 2 + 5;
    REQUIRE(runLoopUntil(
        h.loop, [&] { return h.sink.records == want; }, 5s));
    auto& l = h.sink.lines[f];
    CHECK(l.front() == "a");
    CHECK(l.back() == "b");
    CHECK(l[1] == std::string(1024, 'x'));
    if (mode == LongLineMode::kTruncate) {
      CHECK(h.im.dropped("truncated").Value() == 1);
    } else {
      CHECK(l[5] == std::string(5000 - 4 * 1024, 'x'));
      CHECK(h.im.dropped("split").Value() == 1);
    }
    h.stop();
    CHECK(loadCheckpointFile(s.state_file).data.entries.at(0).offset == 2 + 5001 + 2);
  }
}

TEST_CASE("tail: a last line without newline waits, then times out, and later bytes follow") {
  Harness h;
  std::string f = h.dir.file("a.log");
  append(f, "one\ntw");
  auto s = h.settings({f});
  s.partial_line_timeout = 300ms;
  h.start(s);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 1; }, 5s));
  append(f, "o\nthr");  // completes "two" before the timeout
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 2; }, 5s));
  CHECK(h.sink.lines[f][1] == "two");
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 3; }, 5s));
  CHECK(h.sink.lines[f][2] == "thr");  // emitted after the timeout
  append(f, "ee\nfour\n");
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 5; }, 5s));
  CHECK(h.sink.lines[f][3] == "ee");
  CHECK(h.sink.lines[f][4] == "four");
  h.stop();
  CHECK(loadCheckpointFile(s.state_file).data.entries.at(0).offset ==
        std::string("one\ntwo\nthree\nfour\n").size());
}

TEST_CASE("tail: exclude globs and stop() in any order with checkpoint()") {
  Harness h;
  append(h.dir.file("a.log"), "a\n");
  append(h.dir.file("a.log.gz"), "zzz\n");
  auto s = h.settings({h.dir.path() + "/a.log*"});
  s.exclude = {"*.gz"};
  h.start(s);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 1; }, 5s));
  runLoopFor(h.loop, 100ms);
  CHECK(h.sink.records == 1);
  bool stopped = false;
  h.input->stop([&] { stopped = true; });
  REQUIRE(runLoopUntil(
      h.loop, [&] { return stopped; }, 5s));
  h.input->checkpoint();  // after stop: still safe, still written
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.input->checkpointWritesForTest() >= 1; }, 5s));
  h.input.reset();
}
}  // namespace ingestd::inputs

namespace ingestd::inputs {

TEST_CASE("tail: a file renamed out of the globs and back continues where it was") {
  Harness h;
  std::string f = h.dir.file("a.log");
  std::string away = h.dir.file("a.away");
  h.sink.auto_ack = false;
  append(f, numbered(0, 10));
  auto s = h.settings({f});
  h.start(s);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 10; }, 5s));
  REQUIRE(::rename(f.c_str(), away.c_str()) == 0);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.input->openFilesForTest() == 0; }, 5s));
  REQUIRE(::rename(away.c_str(), f.c_str()) == 0);
  append(f, numbered(10, 15));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 15; }, 5s));
  runLoopFor(h.loop, 100ms);
  CHECK(h.sink.lines[f] == expected(0, 15));
  h.sink.ackFirst(h.sink.pending.size());
  h.stop();
  auto loaded = loadCheckpointFile(s.state_file);
  REQUIRE(loaded.data.entries.size() == 1);
  CHECK(loaded.data.entries[0].offset == numbered(0, 15).size());
}
}  // namespace ingestd::inputs

#include <atomic>
#include <thread>

namespace ingestd::inputs {

namespace {

constexpr int kRotationLines = 30000;
constexpr int kRotationLinesPerFile = 3000;

// The writer of concurrentRotation: writes kRotationLines lines to `f` ("<file generation>
// <sequence> <padding>"), renaming it to f.<generation> after every kRotationLinesPerFile (plus
// a few written to the renamed file before it reopens). Unless `globbed`, it waits before each
// rename until the reader has seen the current generation.
void writeRotating(const std::string& f, bool globbed, const std::atomic<int>& max_gen_seen) {
  int gen = 0;
  int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  auto put = [&](int i) {
    std::string line = std::to_string(gen) + " " + std::to_string(i) + " " +
                       std::string(static_cast<std::size_t>(i % 200), 'p') + "\n";
    (void)!::write(fd, line.data(), line.size());
  };
  for (int i = 0; i < kRotationLines; ++i) {
    put(i);
    if (i % kRotationLinesPerFile == kRotationLinesPerFile - 1) {
      while (!globbed && max_gen_seen.load() < gen) {
        std::this_thread::yield();  // pacing the writer, not waiting for the result
      }
      ::rename(f.c_str(), (f + "." + std::to_string(gen)).c_str());
      // A few more lines still land in the renamed file before the writer reopens.
      for (int k = 0; k < 5 && i + 1 < kRotationLines; ++k) {
        put(++i);
      }
      ::close(fd);
      ++gen;
      fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    }
  }
  ::close(fd);
}

// The first sequence numbers (up to about 300 characters) that are not among `lines`.
std::string missingSequences(const std::vector<std::string>& lines) {
  std::vector<int> got(kRotationLines, 0);
  for (const auto& line : lines) {
    got[static_cast<std::size_t>(std::stoi(line.substr(line.find(' ') + 1)))]++;
  }
  std::string missing;
  for (int i = 0; i < kRotationLines; ++i) {
    if (got[static_cast<std::size_t>(i)] == 0 && missing.size() < 300) {
      missing += std::to_string(i) + ",";
    }
  }
  return missing;
}

// Every sequence number arrived exactly once, and in order within each file generation.
void checkExactlyOnceInOrder(const std::vector<std::string>& lines) {
  std::vector<int> seen(kRotationLines, 0);
  std::map<int, int> last_in_gen;
  int out_of_order = 0;
  for (const auto& line : lines) {
    std::size_t sp = line.find(' ');
    int gen = std::stoi(line.substr(0, sp));
    int n = std::stoi(line.substr(sp + 1));
    REQUIRE(n >= 0);
    REQUIRE(n < kRotationLines);
    ++seen[static_cast<std::size_t>(n)];
    auto it = last_in_gen.find(gen);
    if (it != last_in_gen.end() && n != it->second + 1) {
      ++out_of_order;
    }
    last_in_gen[gen] = n;
  }
  CHECK(std::count(seen.begin(), seen.end(), 1) == kRotationLines);  // exactly once
  CHECK(out_of_order == 0);                                          // in order within each file
}

}  // namespace

// A writer thread rotates by rename as fast as it can write. `globbed`: the rotated names are
// matched too (the recommended set-up). Otherwise the writer waits until the new file has been
// seen before it rotates it: a file created and renamed away before any scan saw it cannot be
// found by name (see README, Limits).
void concurrentRotation(bool globbed) {
  Harness h;
  std::string f = h.dir.file("app.log");
  append(f, "");
  auto s = h.settings({globbed ? f + "*" : f});
  s.read_chunk_bytes = std::uint64_t{16} * 1024;  // many reads, so rotations land between them
  std::atomic<int> max_gen_seen{0};
  h.sink.on_push = [&](const RecordChunk& c) {
    // Each line: "<file generation> <sequence> <padding>".
    std::string_view d = c.data;
    int gen = std::stoi(std::string(d.substr(0, d.find(' '))));
    if (gen > max_gen_seen.load()) {
      max_gen_seen.store(gen);
    }
  };
  h.start(s);
  std::thread writer([&] { writeRotating(f, globbed, max_gen_seen); });
  bool all = runLoopUntil(
      h.loop, [&] { return h.sink.records >= kRotationLines; }, 30s);
  writer.join();
  if (!all) {
    MESSAGE("records " << h.sink.records << " open files " << h.input->openFilesForTest()
                       << " missing " << missingSequences(h.sink.all));
  }
  REQUIRE(all);
  runLoopFor(h.loop, 200ms);
  REQUIRE(h.sink.records == kRotationLines);
  checkExactlyOnceInOrder(h.sink.all);
}

TEST_CASE("tail: rotation under a concurrent writer, rotated names globbed: exactly once") {
  concurrentRotation(true);
}

TEST_CASE("tail: rotation under a concurrent writer, rotated names not globbed: exactly once") {
  concurrentRotation(false);
}

TEST_CASE(
    "tail: idle files in a watched directory cost a stat of the directory per scan, while "
    "appends, new files and renames are still seen") {
  Harness h;
  for (int i = 0; i < 20; ++i) {
    append(h.dir.file("f" + std::to_string(i) + ".log"), numbered(0, 2));
  }
  h.start(h.settings({h.dir.path() + "/*.log"}));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 40; }, 5s));
  h.input->checkpoint();
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.input->checkpointWritesForTest() >= 1; }, 5s));
  const auto writes = h.input->checkpointWritesForTest();
  const auto full = h.input->fullScansForTest();
  const auto light = h.input->lightScansForTest();
  // scan_interval 50 ms: 18 scans, of which at most two are full (one in ten is, as a net).
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.input->lightScansForTest() >= light + 16; }, 10s));
  CHECK(h.input->fullScansForTest() - full <= 2);
  // Nothing moved: the checkpoint is not written again, however often it is asked for.
  for (int i = 0; i < 5; ++i) {
    h.input->checkpoint();
  }
  CHECK(h.input->checkpointWritesForTest() == writes);

  // An append arrives (inotify), a new file is found (its event asks for a full scan), and a
  // file renamed away is followed to its end and counted.
  append(h.dir.file("f3.log"), numbered(2, 3));
  const std::string g = h.dir.file("new.log");
  append(g, numbered(0, 3, "g"));
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 44; }, 5s));
  CHECK(h.sink.lines[g] == expected(0, 3, "g"));
  CHECK(h.sink.lines[h.dir.file("f3.log")] == expected(0, 3));
  REQUIRE(::rename(h.dir.file("f5.log").c_str(), h.dir.file("f5.old").c_str()) == 0);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.event("rotated") == 1; }, 5s));
  h.input->checkpoint();
  CHECK(runLoopUntil(
      h.loop, [&] { return h.input->checkpointWritesForTest() > writes; }, 5s));
}
// --- multiline ----------------------------------------------------------------------------------

namespace {

MultilineSettings javaMultiline(std::chrono::milliseconds timeout = 0ms) {
  MultilineSettings m;
  m.preset = "java";
  m.timeout = timeout;
  return m;
}

const std::string kTrace =
    "2026-12-02 10:00:01 ERROR request failed\n"
    "java.lang.IllegalStateException: boom\n"
    "\tat com.example.Service.handle(Service.java:42)\n"
    "\tat com.example.Server.run(Server.java:7)\n";

}  // namespace

TEST_CASE("tail multiline: a stack trace is one record, acknowledged and checkpointed whole") {
  Harness h;
  h.sink.auto_ack = false;
  std::string f = h.dir.file("app.log");
  append(f, "2026-12-02 10:00:00 INFO started\n" + kTrace);
  auto s = h.settings({f});
  s.multiline = javaMultiline();  // no timeout: a record ends only when the next one begins
  h.start(s);
  // The first line is complete once the trace's first line begins a record; the trace is held.
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 1; }, 5s));
  runLoopFor(h.loop, 150ms);
  CHECK(h.sink.records == 1);
  CHECK(h.sink.lines[f] == std::vector<std::string>{"2026-12-02 10:00:00 INFO started"});
  h.sink.ackFirst(h.sink.pending.size());
  h.input->checkpoint();
  runLoopFor(h.loop, 100ms);
  // The checkpoint stops where the held trace begins: nothing of it counts as delivered.
  const std::uint64_t first_len = std::string("2026-12-02 10:00:00 INFO started\n").size();
  CHECK(loadCheckpointFile(s.state_file).data.entries.at(0).offset == first_len);

  append(f, "2026-12-02 10:00:02 INFO next\n");
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 2; }, 5s));
  std::string joined = kTrace.substr(0, kTrace.size() - 1);  // lines joined by '\n'
  CHECK(h.sink.lines[f][1] == joined);
  CHECK(h.im.records->Value() == 2);
  // Acknowledging the trace moves the checkpoint past all four of its lines at once.
  h.sink.ackFirst(h.sink.pending.size());
  h.stop();
  CHECK(loadCheckpointFile(s.state_file).data.entries.at(0).offset == first_len + kTrace.size());

  // A restart builds the held record ("next") again from the file, whole.
  FakeSink sink2;
  h.input = std::make_unique<TailInput>(s, h.ctx);
  REQUIRE(h.input->start(sink2).isOk());
  append(f, "2026-12-02 10:00:03 INFO last\n");
  REQUIRE(runLoopUntil(
      h.loop, [&] { return sink2.records == 1; }, 5s));
  CHECK(sink2.lines[f] == std::vector<std::string>{"2026-12-02 10:00:02 INFO next"});
}

TEST_CASE("tail multiline: timeout at the end of the file, CRLF, start pattern, truncation") {
  Harness h;
  std::string f = h.dir.file("app.log");
  auto s = h.settings({f});
  MultilineSettings m;
  m.start = R"(^\d{4}-)";
  m.timeout = 200ms;
  s.multiline = m;
  s.max_line_bytes = 1024;
  append(f, "2026-12-02 a\r\n  more a\r\n" + std::string(3000, 'x') + "\n2026-12-02 b\n  more b\n");
  h.start(s);
  // "a" ends when "b" begins; "b" ends when the timeout passes with nothing more to read.
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 2; }, 5s));
  CHECK(h.sink.lines[f][0] == "2026-12-02 a\n  more a\n" + std::string(1024, 'x'));
  CHECK(h.sink.lines[f][1] == "2026-12-02 b\n  more b");
  CHECK(h.im.dropped("truncated").Value() == 1);
  // A line that arrives after the timeout begins a new record of its own.
  append(f, "  late\n");
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 3; }, 5s));
  CHECK(h.sink.lines[f][2] == "  late");
  h.stop();
  CHECK(loadCheckpointFile(s.state_file).data.entries.at(0).offset ==
        std::filesystem::file_size(f));
}

TEST_CASE("tail multiline: a long line split across reads, a rotated file's last record") {
  Harness h;
  std::string f = h.dir.file("app.log");
  auto s = h.settings({f});
  s.multiline = javaMultiline();
  s.max_line_bytes = 1024;
  s.read_chunk_bytes = 4096;  // the long line below spans reads
  std::string big(20000, 'y');
  append(f, "first\n" + big + "\n\tat x.Y.z(Y.java:1)\nsecond\n\tat a.B.c(B.java:2)\n");
  h.start(s);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 2; }, 5s));
  CHECK(h.sink.lines[f][0] == "first");
  CHECK(h.sink.lines[f][1] == big.substr(0, 1024) + "\n\tat x.Y.z(Y.java:1)");
  // Rotation: the old file is read to its end and released, which ends its last record.
  REQUIRE(std::rename(f.c_str(), (f + ".1").c_str()) == 0);
  append(f, "third\n");
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 3; }, 10s));
  CHECK(h.sink.lines[f][2] == "second\n\tat a.B.c(B.java:2)");
}

TEST_CASE("tail multiline: copytruncate builds the held record again from the copy") {
  Harness h;
  std::string f = h.dir.file("app.log");
  auto s = h.settings({h.dir.path() + "/app.log*"});
  s.multiline = javaMultiline(200ms);  // the copy is never appended to: its last record times out
  const std::string head = "2026-12-02 10:00:00 INFO started, padding the fingerprint out " +
                           std::string(300, '.') + "\n";
  append(f, head + kTrace);
  h.start(s);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 1; }, 5s));
  // logrotate copytruncate: copy, then truncate; the trace was held, so it comes from the copy.
  std::filesystem::copy_file(f, f + ".1");
  REQUIRE(::truncate(f.c_str(), 0) == 0);
  append(f, "2026-12-02 10:00:09 INFO after\n");
  // The first line, the trace (from the copy, from where the acknowledged lines end), "after".
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 3; }, 10s));
  runLoopFor(h.loop, 300ms);
  CHECK(h.sink.records == 3);
  std::vector<std::string> all = h.sink.all;
  CHECK(std::count(all.begin(), all.end(), kTrace.substr(0, kTrace.size() - 1)) == 1);
  CHECK(h.im.dropped("truncated_file").Value() == 0);
}

// --- parser: cri --------------------------------------------------------------------------------

TEST_CASE("tail cri: partial chunks are joined per stream, in file order, checkpointed whole") {
  Harness h;
  h.ctx.parser_name = "cri";  // the tail joins P chunks; parsing itself is the encoder's
  h.sink.auto_ack = false;
  std::string f = h.dir.file("pod.log");
  const std::string t = "2026-12-02T10:00:00.000000001Z";
  const std::string l1 = t + " stdout F one\n";
  const std::string p1 = t + " stdout P long-a ";  // stdout's chunks, with stderr between them
  const std::string e1 = t + " stderr F err-1\n";
  append(f, l1 + p1 + "\n" + e1);
  auto s = h.settings({f});
  h.start(s);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 1; }, 5s));
  runLoopFor(h.loop, 150ms);
  // "err-1" is complete, but stdout's line began before it: it waits behind it.
  CHECK(h.sink.all == std::vector<std::string>{t + " stdout F one"});
  h.sink.ackFirst(h.sink.pending.size());
  h.input->checkpoint();
  runLoopFor(h.loop, 100ms);
  CHECK(loadCheckpointFile(s.state_file).data.entries.at(0).offset == l1.size());

  const std::string p2 = t + " stdout F long-b\n";
  const std::string l3 = t + " stdout F three\n";
  append(f, p2 + l3);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 4; }, 5s));
  CHECK(h.sink.all == std::vector<std::string>{t + " stdout F one", t + " stdout F long-a long-b",
                                               t + " stderr F err-1", t + " stdout F three"});
  h.sink.ackFirst(h.sink.pending.size());
  h.stop();
  CHECK(loadCheckpointFile(s.state_file).data.entries.at(0).offset ==
        std::filesystem::file_size(f));
}

TEST_CASE(
    "tail cri: a restart inside a partial line builds it again, the release of the file flushes "
    "it") {
  Harness h;
  h.ctx.parser_name = "cri";
  std::string f = h.dir.file("pod.log");
  const std::string t = "2026-12-02T10:00:00Z";
  append(f, t + " stdout F a\n" + t + " stdout P b1 \n");
  auto s = h.settings({f});
  h.start(s);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return h.sink.records == 1; }, 5s));
  h.stop();  // the pending chunk is not committed
  FakeSink sink2;
  h.input = std::make_unique<TailInput>(s, h.ctx);
  REQUIRE(h.input->start(sink2).isOk());
  append(f, t + " stdout F b2\n");
  REQUIRE(runLoopUntil(
      h.loop, [&] { return sink2.records == 1; }, 5s));
  CHECK(sink2.all == std::vector<std::string>{t + " stdout F b1 b2"});
  // A file deleted with a chunk pending: its release ends the record.
  append(f, t + " stderr P tail-end");
  append(f, "\n");
  REQUIRE(std::remove(f.c_str()) == 0);
  REQUIRE(runLoopUntil(
      h.loop, [&] { return sink2.records == 2; }, 10s));
  CHECK(sink2.all[1] == t + " stderr F tail-end");
}

}  // namespace ingestd::inputs
