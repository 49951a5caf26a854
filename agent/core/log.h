// Logger: leveled, text or JSON lines on stderr, thread-safe, with per-key rate limiting.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace ingestd {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

// Parses "trace|debug|info|warn|error|off". Returns false on an unknown name.
bool parseLogLevel(std::string_view name, LogLevel& out);
std::string_view logLevelName(LogLevel level);

class Logger {
 public:
  enum class Format { kText, kJson };

  explicit Logger(LogLevel level = LogLevel::kInfo, Format format = Format::kText,
                  std::FILE* out = stderr);

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
    if (enabled(LogLevel::kInfo)) log(LogLevel::kInfo, component, fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  void warn(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(LogLevel::kWarn)) log(LogLevel::kWarn, component, fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  void error(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(LogLevel::kError)) log(LogLevel::kError, component, fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  void debug(std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(LogLevel::kDebug)) log(LogLevel::kDebug, component, fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  struct Limited {
    std::chrono::steady_clock::time_point last{};
    std::uint64_t suppressed = 0;
  };
  std::atomic<LogLevel> level_;
  Format format_;
  std::FILE* out_;
  std::mutex mu_;  // guards out_ writes and limited_
  std::map<std::string, Limited, std::less<>> limited_;
};

}  // namespace ingestd
