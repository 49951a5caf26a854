// Logger implementation: one line per message, written with a single fwrite under a mutex.
#include "agent/core/log.h"

#include <ctime>

namespace ingestd {

bool parseLogLevel(std::string_view name, LogLevel& out) {
  static constexpr std::pair<std::string_view, LogLevel> kLevels[] = {
      {"trace", LogLevel::kTrace}, {"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo},
      {"warn", LogLevel::kWarn},   {"error", LogLevel::kError}, {"off", LogLevel::kOff}};
  for (const auto& [n, l] : kLevels) {
    if (n == name) {
      out = l;
      return true;
    }
  }
  return false;
}

std::string_view logLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "?";
}

Logger::Logger(LogLevel level, Format format, std::FILE* out)
    : level_(level), format_(format), out_(out) {}

namespace {

std::string timestampNow() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms.count());
}

void appendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

}  // namespace

void Logger::log(LogLevel level, std::string_view component, std::string_view message) {
  if (!enabled(level)) {
    return;
  }
  std::string line;
  if (format_ == Format::kJson) {
    line = "{\"time\":\"" + timestampNow() + "\",\"level\":\"" +
           std::string(logLevelName(level)) + "\",\"component\":";
    appendJsonString(line, component);
    line += ",\"message\":";
    appendJsonString(line, message);
    line += "}\n";
  } else {
    line = fmt::format("{} {:<5} {}: {}\n", timestampNow(), logLevelName(level), component,
                       message);
  }
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

void Logger::logLimited(LogLevel level, std::string_view key, std::chrono::milliseconds interval,
                        std::string_view component, std::string_view message) {
  if (!enabled(level)) {
    return;
  }
  std::uint64_t suppressed = 0;
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    auto it = limited_.find(key);
    if (it == limited_.end()) {
      it = limited_.emplace(std::string(key), Limited{}).first;
    } else if (now - it->second.last < interval) {
      ++it->second.suppressed;
      return;
    }
    it->second.last = now;
    suppressed = it->second.suppressed;
    it->second.suppressed = 0;
  }
  if (suppressed > 0) {
    log(level, component, fmt::format("{} ({} similar messages suppressed)", message, suppressed));
  } else {
    log(level, component, message);
  }
}

}  // namespace ingestd
