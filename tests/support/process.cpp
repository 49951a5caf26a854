// Process implementation: posix_spawn with file actions for stdio and the working directory,
// waitpid(WNOHANG) polling through waitFor() for deadlines.
#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/wait_for.h"

extern char** environ;

#ifndef INGESTD_BIN_DIR
#error "INGESTD_BIN_DIR must be defined (cmake: tests/CMakeLists.txt)"
#endif

namespace ingestd::test {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The first complete line (or trailing partial line when `include_partial`) containing needle.
std::optional<std::string> findLine(const std::string& text, std::string_view needle,
                                    bool include_partial) {
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos && !include_partial) {
      break;
    }
    const std::size_t end = nl == std::string::npos ? text.size() : nl;
    std::string_view line(text.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.find(needle) != std::string_view::npos) {
      return std::string(line);
    }
    if (nl == std::string::npos) {
      break;
    }
    start = nl + 1;
  }
  return std::nullopt;
}

}  // namespace

std::string binPath(std::string_view name) {
  // INGESTD_TEST_BIN_DIR runs the tests against another build's binaries (a sanitizer build).
  const char* override_dir = std::getenv("INGESTD_TEST_BIN_DIR");
  std::string out =
      (override_dir != nullptr && *override_dir != '\0') ? override_dir : INGESTD_BIN_DIR;
  out += '/';
  out += name;
  return out;
}

Process::Process(std::vector<std::string> argv, const ProcessOptions& options)
    : dir_(std::make_unique<TempDir>()),
      stdout_path_(dir_->file("stdout")),
      stderr_path_(dir_->file("stderr")) {
  if (argv.empty()) {
    throw std::runtime_error("Process: empty argv");
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (auto& a : argv) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);

  // Environment: the parent's, with options.env overriding or adding entries.
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    const std::string key(entry.substr(0, eq));
    if (options.env.count(key) == 0) {
      env_strings.emplace_back(entry);
    }
  }
  for (const auto& [key, value] : options.env) {
    auto& entry = env_strings.emplace_back(key);
    entry += '=';
    entry += value;
  }
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) {
    envp.push_back(s.data());
  }
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (!options.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_dir.c_str());
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The child starts with default signal dispositions and an empty mask, whatever the test
  // runner did to its own.
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  const int rc = ::posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("Process: posix_spawn(" + argv[0] + ") failed: " + std::strerror(rc));
  }
}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
}

bool Process::reap(bool block) {
  if (status_) {
    return true;
  }
  if (pid_ <= 0) {
    return false;
  }
  int st = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    if (WIFEXITED(st)) {
      status_ = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
      status_ = -WTERMSIG(st);
    } else {
      status_ = -1000;
    }
    return true;
  }
  if (r < 0) {
    // ECHILD: someone else reaped it; report it as gone with an unknown status.
    status_ = -1000;
    return true;
  }
  return false;
}

bool Process::running() { return !reap(false); }

void Process::signal(int sig) {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, sig);
  }
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  waitFor([this] { return reap(false); }, timeout, std::chrono::milliseconds(5));
  return status_;
}

std::string Process::stdoutText() const { return readFile(stdout_path_); }
std::string Process::stderrText() const { return readFile(stderr_path_); }

std::optional<std::string> Process::waitForLineIn(const std::string& path, std::string_view needle,
                                                  std::chrono::milliseconds timeout) {
  std::optional<std::string> found;
  waitFor(
      [&] {
        // Check whether it exited before reading, so output written just before exit is seen.
        const bool exited = reap(false);
        found = findLine(readFile(path), needle, exited);
        return found.has_value() || exited;
      },
      timeout, std::chrono::milliseconds(10));
  return found;
}

std::optional<std::string> Process::waitForLine(std::string_view needle,
                                                std::chrono::milliseconds timeout) {
  return waitForLineIn(stdout_path_, needle, timeout);
}

std::optional<std::string> Process::waitForStderrLine(std::string_view needle,
                                                      std::chrono::milliseconds timeout) {
  return waitForLineIn(stderr_path_, needle, timeout);
}

}  // namespace ingestd::test
