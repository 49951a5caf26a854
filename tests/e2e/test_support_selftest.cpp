// Self-tests of tests/support: Process, waitFor, TempDir, gzip and the HTTP client, so a broken
// helper shows up here rather than as a confusing failure in an e2e test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

using namespace std::chrono_literals;
using ingestd::test::Process;
using ingestd::test::ProcessOptions;
using ingestd::test::TempDir;
using ingestd::test::waitFor;

TEST_CASE("support: TempDir creates a directory and removes it recursively") {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    CHECK(std::filesystem::is_directory(path));
    CHECK(dir.file("a.txt") == path + "/a.txt");
    std::filesystem::create_directories(dir.file("sub/deeper"));
    std::ofstream(dir.file("sub/deeper/x")) << "x";
    TempDir other;
    CHECK(other.path() != path);
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("support: waitFor returns true once the condition holds, false at the deadline") {
  std::atomic<int> calls{0};
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(waitFor([&] { return ++calls >= 3; }, 5s, 1ms));
  CHECK(calls.load() == 3);

  const auto t1 = std::chrono::steady_clock::now();
  CHECK_FALSE(waitFor([] { return false; }, 100ms, 10ms));
  const auto waited = std::chrono::steady_clock::now() - t1;
  CHECK(waited >= 100ms);
  CHECK(waited < 2s);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}

TEST_CASE("support: Process captures stdout and the exit code") {
  Process p({"/bin/echo", "hello", "world"});
  CHECK(p.pid() > 0);
  const auto line = p.waitForLine("hello", 5s);
  REQUIRE(line);
  CHECK(*line == "hello world");
  CHECK(p.wait(5s) == 0);
  CHECK_FALSE(p.running());
  CHECK(p.stdoutText() == "hello world\n");
  CHECK(p.stderrText().empty());
}

TEST_CASE("support: Process reports exit codes, stderr, env and working dir") {
  TempDir dir;
  Process p({"/bin/sh", "-c", "echo \"$GREETING $(pwd)\" >&2; exit 3"},
            ProcessOptions{{{"GREETING", "hi"}}, dir.path()});
  CHECK(p.wait(5s) == 3);
  const auto line = p.waitForStderrLine("hi", 1s);
  REQUIRE(line);
  // pwd may resolve symlinks in $TMPDIR; compare canonical paths.
  CHECK(std::filesystem::canonical(line->substr(3)) == std::filesystem::canonical(dir.path()));
  CHECK_FALSE(p.waitForLine("never printed", 1s));
}

TEST_CASE("support: Process signal, wait deadline and kill on destruction") {
  Process p({"/bin/sleep", "30"});
  CHECK(p.running());
  CHECK_FALSE(p.wait(50ms));
  p.signal(SIGTERM);
  CHECK(p.wait(5s) == -SIGTERM);
  CHECK(p.exitStatus() == -SIGTERM);

  pid_t pid = 0;
  {
    Process q({"/bin/sleep", "30"});
    pid = q.pid();
    CHECK(::kill(pid, 0) == 0);
  }
  // Reaped by the destructor: the pid no longer names our child.
  CHECK(::kill(pid, 0) != 0);
}

TEST_CASE("support: waitForLine returns early when the child exits, and sees large output") {
  Process p({"/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do echo line-$i; i=$((i+1)); done"});
  const auto last = p.waitForLine("line-19999", 20s);
  REQUIRE(last);
  CHECK(*last == "line-19999");
  CHECK(p.wait(5s) == 0);

  Process q({"/bin/sh", "-c", "exit 0"});
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(q.waitForLine("listening", 10s));
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}

TEST_CASE("support: Process throws when the program does not exist") {
  CHECK_THROWS_AS(Process({"/nonexistent/program"}), std::runtime_error);
}

TEST_CASE("support: gzip round trip, concatenated members and corrupt input") {
  std::string data;
  for (int i = 0; i < 10000; ++i) {
    data += "row " + std::to_string(i) + ",value\n";
  }
  const auto gz = ingestd::test::gzipCompress(data);
  REQUIRE(gz.size() > 2);
  CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
  CHECK(gz.size() < data.size());
  CHECK(ingestd::test::gunzip(gz) == data);
  CHECK(ingestd::test::gunzip(gz + ingestd::test::gzipCompress("tail")) == data + "tail");
  CHECK(ingestd::test::gunzip(ingestd::test::gzipCompress("")).empty());
  CHECK_THROWS(ingestd::test::gunzip(gz.substr(0, gz.size() / 2)));
  CHECK_THROWS(ingestd::test::gunzip("not gzip at all"));
}

TEST_CASE("support: httpRequest reports a transport error when nothing listens") {
  // A port we hold bound but never listen on: connections to it are refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  const auto r = ingestd::test::httpRequest("GET", url, {}, {}, 2s);
  ::close(fd);
  CHECK(r.status == 0);
  CHECK_FALSE(r.error.empty());
}

TEST_CASE("support: binPath points into the build's bin dir") {
  const char* env = std::getenv("INGESTD_TEST_BIN_DIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : INGESTD_BIN_DIR;
  CHECK(ingestd::test::binPath("kusto-local") == dir + "/kusto-local");
}
