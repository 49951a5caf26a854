// Logger implementation: callers format one line per message and queue it; the writer thread
// writes each with a single fwrite.
#include "agent/core/log.h"

#include <ctime>

namespace ingestd {

namespace {
std::string timestampNow();
}  // namespace

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
    : level_(level), format_(format), out_(out), writer_([this] { writerMain(); }) {}

Logger::~Logger() {
  {
    std::lock_guard lock(q_mu_);
    stop_ = true;
  }
  q_cv_.notify_one();
  writer_.join();
}

void Logger::enqueue(std::string line) {
  {
    std::lock_guard lock(q_mu_);
    if (queue_.size() >= kMaxQueuedLines || queued_bytes_ + line.size() > kMaxQueuedBytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queued_bytes_ += line.size();
    queue_.push_back(std::move(line));
    ++enqueued_;
  }
  q_cv_.notify_one();
}

void Logger::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(q_mu_);
  const std::uint64_t target = enqueued_;
  written_cv_.wait_for(lock, timeout, [&] { return written_ >= target || stop_; });
}

void Logger::writerMain() {
  std::uint64_t dropped_reported = 0;
  std::unique_lock lock(q_mu_);
  for (;;) {
    q_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) {
      break;
    }
    std::deque<std::string> batch;
    batch.swap(queue_);
    queued_bytes_ = 0;
    lock.unlock();
    for (const auto& line : batch) {
      std::fwrite(line.data(), 1, line.size(), out_);
    }
    const std::uint64_t dropped = dropped_.load(std::memory_order_relaxed);
    if (dropped > dropped_reported) {
      const std::string note = fmt::format(
          "{} warn  log: {} log line(s) were dropped because stderr could not keep up.\n",
          timestampNow(), dropped - dropped_reported);
      std::fwrite(note.data(), 1, note.size(), out_);
      dropped_reported = dropped;
    }
    std::fflush(out_);
    lock.lock();
    written_ += batch.size();
    written_cv_.notify_all();
  }
  written_cv_.notify_all();
}

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
    line = "{\"time\":\"" + timestampNow() + "\",\"level\":\"" + std::string(logLevelName(level)) +
           "\",\"component\":";
    appendJsonString(line, component);
    line += ",\"message\":";
    appendJsonString(line, message);
    line += "}\n";
  } else {
    line =
        fmt::format("{} {:<5} {}: {}\n", timestampNow(), logLevelName(level), component, message);
  }
  enqueue(std::move(line));
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
