// Logger: lines are written by its own thread, so a stderr that blocks never blocks the caller;
// what does not fit the bounded queue is dropped, counted, and the count is written later.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "agent/core/log.h"

using ingestd::Logger;
using ingestd::LogLevel;

namespace {

std::string readAll(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

TEST_CASE("logger: lines arrive in order, flush() waits for them") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::FILE* w = ::fdopen(fds[1], "w");
  REQUIRE(w != nullptr);
  std::string text;
  std::thread reader([&] { text = readAll(fds[0]); });
  {
    Logger log(LogLevel::kInfo, Logger::Format::kText, w);
    for (int i = 0; i < 100; ++i) {
      log.info("test", "line {}", i);
    }
    log.debug("test", "not at this level");
    log.flush();
    CHECK(log.droppedLines() == 0);
  }
  std::fclose(w);
  reader.join();
  ::close(fds[0]);
  CHECK(text.find("line 0\n") != std::string::npos);
  CHECK(text.find("line 99\n") != std::string::npos);
  CHECK(text.find("line 42\n") < text.find("line 43\n"));
  CHECK(text.find("not at this level") == std::string::npos);
}

TEST_CASE("logger: a blocked stderr does not block the caller, drops are counted and reported") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::fcntl(fds[1], F_SETPIPE_SZ, 4096);
  std::FILE* w = ::fdopen(fds[1], "w");
  REQUIRE(w != nullptr);
  std::string text;
  {
    Logger log(LogLevel::kInfo, Logger::Format::kText, w);
    // Nobody reads the pipe: the writer thread blocks in its first write, and every call
    // below still returns. More than the queue holds is dropped and counted.
    const std::string payload(300, 'p');
    for (std::size_t i = 0; i < Logger::kMaxQueuedLines + 1000; ++i) {
      log.info("test", "{} {}", i, payload);
    }
    CHECK(log.droppedLines() > 0);
    std::thread reader([&] { text = readAll(fds[0]); });
    log.flush();
    log.info("test", "after the drain");
    log.flush();
    std::fclose(w);  // the writer is idle: EOF for the reader
    reader.join();
  }
  ::close(fds[0]);
  CHECK(text.find("were dropped because stderr could not keep up") != std::string::npos);
  CHECK(text.find("after the drain") != std::string::npos);
}
