// Logger: leveled, text or JSON lines on stderr, thread-safe, with per-key rate limiting.
// Lines are written by a writer thread of the logger's own, never by the caller: a slow or
// blocked stderr (a full pipe, a stalled journald) cannot stall the event loop. The queue is
// bounded; lines that do not fit are dropped, counted, and the count is written once the
// writer catches up.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/format.h>

namespace ingestd {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

// Parses "trace|debug|info|warn|error|off". Returns false on an unknown name.
bool parseLogLevel(std::string_view name, LogLevel& out);
std::string_view logLevelName(LogLevel level);

class Logger {
 public:
  enum class Format { kText, kJson };

  // Queue bounds: lines beyond these are dropped (and counted) until the writer catches up.
  static constexpr std::size_t kMaxQueuedLines = 4096;
  static constexpr std::size_t kMaxQueuedBytes = 1u << 20;

  explicit Logger(LogLevel level = LogLevel::kInfo, Format format = Format::kText,
                  std::FILE* out = stderr);
  // Writes what is queued, then stops the writer thread.
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Any thread: returns once every line logged before the call is written (before _exit(),
  // and in tests that read the output), or after `timeout` (a stderr that blocks).
  void flush(std::chrono::milliseconds timeout = std::chrono::hours(24));
  // Lines dropped because the queue was full.
  std::uint64_t droppedLines() const { return dropped_.load(std::memory_order_relaxed); }

  void setLevel(LogLevel level) { level_.store(level, std::memory_order_relaxed); }
  void setFormat(Format format) { format_ = format; }
  bool enabled(LogLevel level) const { return level >= level_.load(std::memory_order_relaxed); }

  // Any thread. `component` is e.g. "output kusto/adx"; the message is a sentence.
  void log(LogLevel level, std::string_view component, std::string_view message);

  // Logs at most once per `interval` for the same key; counts what was suppressed and says so
  // in the next message that passes.
  void logLimited(LogLevel level, std::string_view key, std::chrono::milliseconds interval,
                  std::string_view component, std::string_view message);

  template <class... Args>
  void info(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(LogLevel::kInfo))
      log(LogLevel::kInfo, component, fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  void warn(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(LogLevel::kWarn))
      log(LogLevel::kWarn, component, fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  void error(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(LogLevel::kError))
      log(LogLevel::kError, component, fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  void debug(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(LogLevel::kDebug))
      log(LogLevel::kDebug, component, fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  struct Limited {
    std::chrono::steady_clock::time_point last{};
    std::uint64_t suppressed = 0;
  };
  void enqueue(std::string line);
  void writerMain();

  std::atomic<LogLevel> level_;
  Format format_;
  std::FILE* out_;
  std::mutex mu_;  // guards limited_
  std::map<std::string, Limited, std::less<>> limited_;
  // The queue to the writer thread. Lock order: never hold mu_ and q_mu_ together.
  std::mutex q_mu_;                     // guards queue_, queued_bytes_, enqueued_, written_, stop_
  std::condition_variable q_cv_;        // the writer waits for lines or stop_
  std::condition_variable written_cv_;  // flush() waits for written_
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  std::uint64_t enqueued_ = 0;  // lines accepted so far
  std::uint64_t written_ = 0;   // lines written so far
  bool stop_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::thread writer_;
};

}  // namespace ingestd
