// Integration tests of the stdin input on a real loop, reading a pipe or a file in place of fd 0:
// lines split across writes, backpressure (pause stops reading, so the writer blocks), the end of
// input (the last line without a newline, a cut octet-counted message counted, finished() called
// once), multiline records, and a regular file read on the file-work pool.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "agent/core/clock.h"
#include "agent/core/log.h"
#include "agent/loop/loop.h"
#include "agent/loop/worker_pool.h"
#include "agent/metrics/metrics.h"
#include "plugins/inputs/stdin/stdin_input.h"
#include "tests/support/loop_wait.h"
#include "tests/support/temp_dir.h"

namespace ingestd::inputs {
namespace {

using namespace std::chrono_literals;

class FrameSink : public RecordSink {
 public:
  void push(RecordChunk chunk) override {
    std::string_view d = chunk.data;
    while (!d.empty()) {
      REQUIRE(d.size() >= 4);
      const auto* u = reinterpret_cast<const unsigned char*>(d.data());
      const std::uint32_t len =
          u[0] | (u[1] << 8) | (u[2] << 16) | (static_cast<std::uint32_t>(u[3]) << 24);
      REQUIRE(d.size() >= 4 + len);
      frames.emplace_back(d.substr(4, len));
      d.remove_prefix(4 + len);
    }
    CHECK(chunk.source->source == "stdin");
  }
  std::vector<std::string> frames;
};

struct Harness {
  test::TempDir dir;
  Loop loop;
  WorkerPool pool{loop, 1};
  SystemClock clock;
  Logger log{LogLevel::kWarn};
  Metrics metrics;
  InputMetrics im = metrics.forInput("in");
  PluginContext ctx{"stdin/in", "in", loop, pool, clock, log, dir.path(), "host", &im, nullptr};
  FrameSink sink;
  std::unique_ptr<StdinInput> input;
  int finished = 0;

  // Reads `fd` (owned by the input from here on) with the settings in `yaml`.
  Harness(int fd, const std::string& yaml) {
    Loop::markLoopThread();
    ConfigNode node(YAML::Load("name: in\ntype: stdin\n" + yaml),
                    std::make_shared<const std::string>("t.yaml"), "inputs[0]");
    auto s = parseStdinSettings(node);
    REQUIRE_MESSAGE(s.isOk(), s.error().message);
    ctx.finished = [this] { ++finished; };
    input = std::make_unique<StdinInput>(s.value(), ctx, fd);
    REQUIRE(input->start(sink).isOk());
  }
  ~Harness() {
    bool stopped = false;
    input->stop([&] { stopped = true; });
    CHECK(test::runLoopUntil(
        loop, [&] { return stopped; }, 5s));
    input.reset();
    CHECK(loop.shutdown() == 0);
  }
  bool until(const std::function<bool()>& cond, std::chrono::milliseconds t = 5s) {
    return test::runLoopUntil(loop, cond, t);
  }
};

struct Pipe {
  int r = -1;
  int w = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() { closeWriter(); }
  bool write(const std::string& s) const {
    return ::write(w, s.data(), s.size()) == static_cast<ssize_t>(s.size());
  }
  void closeWriter() {
    if (w >= 0) {
      ::close(w);
      w = -1;
    }
  }
};

}  // namespace

TEST_CASE("stdin pipe: lines split across writes, the last one without a newline, finished once") {
  Pipe p;
  Harness h(p.r, "");
  REQUIRE(p.write("first li"));
  REQUIRE(p.write("ne\r\nsecond\n"));
  REQUIRE(h.until([&] { return h.sink.frames.size() == 2; }));
  REQUIRE(p.write("third, no newline"));
  test::runLoopFor(h.loop, 50ms);
  CHECK(h.sink.frames.size() == 2);  // it may still continue
  CHECK(h.finished == 0);
  p.closeWriter();
  REQUIRE(h.until([&] { return h.finished == 1; }));
  CHECK(h.sink.frames == std::vector<std::string>{"first line", "second", "third, no newline"});
  CHECK(h.im.records->Value() == 3);
  CHECK(h.input->atEndForTest());
  test::runLoopFor(h.loop, 50ms);
  CHECK(h.finished == 1);
}

TEST_CASE("stdin pipe: pause stops reading so the writer blocks, resume delivers every line") {
  Pipe p;
  ::fcntl(p.w, F_SETFL, O_NONBLOCK);
  Harness h(p.r, "");
  h.input->pause();
  const std::string line = std::string(100, 'z') + "\n";
  int sent = 0;
  while (sent < 100000 && p.write(line)) {
    ++sent;
  }
  REQUIRE(errno == EAGAIN);  // the pipe is full: the writer is held back, nothing dropped
  REQUIRE(sent < 100000);
  test::runLoopFor(h.loop, 100ms);
  CHECK(h.sink.frames.empty());
  h.input->resume();
  REQUIRE(h.until([&] { return static_cast<int>(h.sink.frames.size()) == sent; }));
  p.closeWriter();
  REQUIRE(h.until([&] { return h.finished == 1; }));
  CHECK(static_cast<int>(h.sink.frames.size()) == sent);
}

TEST_CASE("stdin pipe: octet-counted, a message cut by the end of input is counted") {
  Pipe p;
  Harness h(p.r, "framing: octet-counted\n");
  REQUIRE(p.write("5 hello10 two\nlines!20 cut"));
  p.closeWriter();
  REQUIRE(h.until([&] { return h.finished == 1; }));
  CHECK(h.sink.frames == std::vector<std::string>{"hello", "two\nlines!"});
  CHECK(h.im.dropped("incomplete").Value() == 1);
}

TEST_CASE("stdin pipe: multiline records, the last one goes out at the end of input") {
  Pipe p;
  Harness h(p.r, "multiline: {start: '^\\d{4}-', timeout: 0}\n");
  REQUIRE(p.write("2026-12-01 first\n  at a.b(C.java:1)\n2026-12-01 second\n  at x.y(Z.java:2)\n"));
  REQUIRE(h.until([&] { return h.sink.frames.size() == 1; }));
  CHECK(h.sink.frames[0] == "2026-12-01 first\n  at a.b(C.java:1)");
  p.closeWriter();
  REQUIRE(h.until([&] { return h.finished == 1; }));
  REQUIRE(h.sink.frames.size() == 2);
  CHECK(h.sink.frames[1] == "2026-12-01 second\n  at x.y(Z.java:2)");
}

TEST_CASE("stdin file: a regular file is read on the pool to its end, across pauses") {
  test::TempDir d;
  const std::string path = d.file("in.log");
  {
    std::ofstream out(path);
    for (int i = 0; i < 20000; ++i) {
      out << "seq=" << i << " from a file given as stdin\n";
    }
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  Harness h(fd, "");
  REQUIRE(h.until([&] { return !h.sink.frames.empty(); }));
  h.input->pause();
  test::runLoopFor(h.loop, 50ms);
  const std::size_t at_pause = h.sink.frames.size();
  test::runLoopFor(h.loop, 50ms);
  CHECK(h.sink.frames.size() == at_pause);  // no read is started while paused
  h.input->resume();
  REQUIRE(h.until([&] { return h.finished == 1; }));
  REQUIRE(h.sink.frames.size() == 20000);
  CHECK(h.sink.frames[19999] == "seq=19999 from a file given as stdin");
}

TEST_CASE("stdin config: keys and located errors") {
  auto parse = [](const std::string& yaml) {
    ConfigNode node(YAML::Load("name: in\ntype: stdin\n" + yaml),
                    std::make_shared<const std::string>("t.yaml"), "inputs[0]");
    return parseStdinSettings(node);
  };
  auto ok = parse("");
  REQUIRE(ok.isOk());
  CHECK(ok->framing.mode == FramingMode::kNewline);
  CHECK(describeStdinSettings(*ok).find("framing:     newline") != std::string::npos);
  auto bad = parse("listen: 127.0.0.1:0\n");
  REQUIRE_FALSE(bad.isOk());
  CHECK(bad.error().message.find("t.yaml:3:") != std::string::npos);
  CHECK(bad.error().message.find("listen") != std::string::npos);
  CHECK_FALSE(parse("framing: lines\n").isOk());
}

}  // namespace ingestd::inputs
