// Process: a child process for e2e tests (kusto-local, ingestd, helpers). Started with
// posix_spawn; stdout and stderr go to files in a private temp dir so a chatty child never
// blocks on a full pipe; the test reads them back and waits for lines with deadlines.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/temp_dir.h"

namespace ingestd::test {

// INGESTD_BIN_DIR "/" name: where the build puts its binaries (build/bin). The environment
// variable INGESTD_TEST_BIN_DIR, when set, replaces INGESTD_BIN_DIR.
std::string binPath(std::string_view name);

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to (or overriding) the parent's environment
  std::string working_dir;                 // empty: the parent's working directory
};

class Process {
 public:
  // Spawns argv[0] (searched in PATH when it has no '/') with argv. Throws std::runtime_error
  // when the child cannot be started. stdin is /dev/null.
  explicit Process(std::vector<std::string> argv, const ProcessOptions& options = {});
  // Kills (SIGKILL) and reaps the child if it is still running.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }

  // Waits until a complete line of stdout (or stderr) contains `needle` and returns that line
  // (without the newline). Returns nullopt at the deadline, or early when the child has exited
  // without printing such a line.
  std::optional<std::string> waitForLine(std::string_view needle,
                                         std::chrono::milliseconds timeout);
  std::optional<std::string> waitForStderrLine(std::string_view needle,
                                               std::chrono::milliseconds timeout);

  // Everything the child has written so far.
  std::string stdoutText() const;
  std::string stderrText() const;
  const std::string& stdoutPath() const { return stdout_path_; }
  const std::string& stderrPath() const { return stderr_path_; }

  // Sends a signal (no-op once the child has been reaped).
  void signal(int sig);
  // Waits for the child to exit: its exit code, or -N if killed by signal N; nullopt if it is
  // still running at the deadline. Once reaped, returns the same status immediately.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // True while the child has not exited (reaps it if it has).
  bool running();
  // The exit status if the child has been reaped (see wait()).
  std::optional<int> exitStatus() const { return status_; }

 private:
  bool reap(bool block);
  std::optional<std::string> waitForLineIn(const std::string& path, std::string_view needle,
                                           std::chrono::milliseconds timeout);

  std::unique_ptr<TempDir> dir_;
  std::string stdout_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace ingestd::test
