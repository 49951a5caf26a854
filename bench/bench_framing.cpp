// Micro-benchmark of the stream-input building blocks in plugins/common: StreamFramer (newline
// and octet-counted framing of ~200-byte syslog-like messages, fed in 64 KiB reads as a socket
// delivers them) and Multiline with the java preset over a log with stack traces. Single
// thread; MB/s from thread CPU time, best of several runs (wall time in brackets).
//
//   bench_framing [--mib N] [--runs N]     N MiB of framing input per run (default 200)
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "bench/bench_timing.h"
#include "bench/nginx_log_gen.h"
#include "plugins/common/multiline.h"
#include "plugins/common/stream_framer.h"

namespace ingestd::bench {
namespace {

using inputs::Frame;
using inputs::FramingMode;
using inputs::FramingSettings;
using inputs::StreamFramer;

double mbps(double bytes, double seconds) { return bytes / 1e6 / seconds; }

// ~200-byte RFC 5424 messages: a syslog header in front of an nginx access-log line.
std::string syslogMessages(std::size_t bytes, bool octet_counted) {
  NginxLogGenerator gen;
  std::string out;
  out.reserve(bytes + 512);
  std::string line;
  std::uint64_t seq = 0;
  while (out.size() < bytes) {
    line.clear();
    gen.appendLine(line);
    line.pop_back();  // '\n'
    // An RFC 5424 header (52 bytes) and the first 140 bytes of the access-log line: ~200 bytes.
    const std::string msg =
        fmt::format("<134>1 2026-11-24T10:00:00.000Z web-01 nginx 812 - - {} {}",
                    std::string_view(line).substr(0, 140), seq++ % 1000);
    if (octet_counted) {
      out += fmt::format("{} ", msg.size());
      out += msg;
    } else {
      out += msg;
      out += '\n';
    }
  }
  return out;
}

// A Java service log: mostly single log lines, every 20th an ERROR followed by a stack trace
// of 8-40 frames, some with a "Caused by:" section and "... N more".
std::string javaLog(std::size_t bytes) {
  std::mt19937 rng(20261124);
  std::string out;
  out.reserve(bytes + 8192);
  static const char* kClasses[] = {"com.example.orders.OrderService", "com.example.db.Pool",
                                   "org.springframework.web.servlet.FrameworkServlet",
                                   "org.apache.catalina.core.StandardWrapperValve",
                                   "java.base/java.util.concurrent.ThreadPoolExecutor"};
  std::uint64_t n = 0;
  while (out.size() < bytes) {
    ++n;
    const bool error = rng() % 20 == 0;
    out += fmt::format(
        "2026-11-24 10:00:{:02}.{:03} {} [http-nio-8080-exec-{}] com.example.orders.OrderService - "
        "{} order {} for customer {}\n",
        n % 60, n % 1000, error ? "ERROR" : "INFO ", rng() % 16, error ? "failed" : "processed",
        100000 + n, rng() % 50000);
    if (!error) {
      continue;
    }
    out += "java.lang.IllegalStateException: connection pool exhausted (max 32)\n";
    const unsigned frames = 8 + rng() % 32;
    for (unsigned i = 0; i < frames; ++i) {
      const char* cls = kClasses[rng() % 5];
      out += fmt::format("\tat {}.method{}({}.java:{})\n", cls, i, "Source", 10 + rng() % 900);
    }
    if (rng() % 2 == 0) {
      out += "Caused by: java.net.SocketTimeoutException: connect timed out\n";
      out += "\tat java.base/java.net.Socket.connect(Socket.java:633)\n";
      out += fmt::format("\t... {} more\n", frames - 2);
    }
  }
  return out;
}

void framing(const char* name, FramingMode mode, const std::string& data, std::size_t repeat,
             int runs) {
  FramingSettings s;
  s.mode = mode;
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  const Timing t = measure(runs, [&] {
    StreamFramer f(s);
    std::uint64_t sum = 0;
    auto sink = [&](const Frame& fr) { sum += fr.data.size(); };
    constexpr std::size_t kRead = 64u << 10;  // one socket read
    for (std::size_t r = 0; r < repeat; ++r) {
      for (std::size_t pos = 0; pos < data.size(); pos += kRead) {
        f.feed(data.data() + pos, std::min(kRead, data.size() - pos), sink);
      }
    }
    f.finish(sink);
    frames = f.stats().frames;
    bytes = sum;
  });
  const double in = static_cast<double>(data.size() * repeat);
  fmt::print(
      "{:<32} {:>9.0f} MB/s  [{:>6.0f} wall] {:>7.2f} M frames/s  {:>6.1f} ns/frame  "
      "({} frames, {:.0f} MB)\n",
      name, mbps(in, t.cpu), mbps(in, t.wall), static_cast<double>(frames) / 1e6 / t.cpu,
      t.cpu * 1e9 / static_cast<double>(frames), frames, static_cast<double>(bytes) / 1e6);
}

void multiline(const std::string& log, std::size_t repeat, int runs) {
  inputs::MultilineSettings s;
  s.preset = "java";
  std::uint64_t records = 0;
  std::uint64_t lines = 0;
  const Timing t = measure(runs, [&] {
    auto m = inputs::Multiline::create(s);
    if (!m) {
      std::abort();
    }
    std::uint64_t sum = 0;
    auto sink = [&](const inputs::MultilineRecord& r) { sum += r.text.size(); };
    const Clock::Monotonic now{};
    std::uint64_t base = 0;
    for (std::size_t r = 0; r < repeat; ++r) {
      std::size_t pos = 0;
      while (pos < log.size()) {
        const std::size_t end = log.find('\n', pos);  // the log ends with '\n'
        m->push(std::string_view(log.data() + pos, end - pos), {base + pos, base + end + 1}, now,
                sink);
        pos = end + 1;
      }
      base += log.size();
    }
    m->flush(sink);
    records = m->stats().records;
    lines = m->stats().lines;
  });
  const double in = static_cast<double>(log.size() * repeat);
  fmt::print(
      "{:<32} {:>9.0f} MB/s  [{:>6.0f} wall] {:>7.2f} M lines/s   {:>6.1f} ns/line   "
      "({} lines -> {} records)\n",
      "multiline java preset", mbps(in, t.cpu), mbps(in, t.wall),
      static_cast<double>(lines) / 1e6 / t.cpu, t.cpu * 1e9 / static_cast<double>(lines), lines,
      records);
}

}  // namespace

int run(int argc, char** argv) {
  std::size_t mib = 200;
  int runs = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mib") == 0 && i + 1 < argc) {
      mib = static_cast<std::size_t>(std::max(1, std::atoi(argv[++i])));
    } else if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      fmt::print(stderr, "usage: bench_framing [--mib N] [--runs N]\n");
      return 2;
    }
  }
  // 20 MiB of distinct messages, fed mib/20 times (the framer keeps no state across them).
  const std::size_t block = std::min<std::size_t>(mib, 20) << 20;
  const std::size_t repeat = std::max<std::size_t>(1, (mib << 20) / block);
  const std::string newline = syslogMessages(block, false);
  const std::string octet = syslogMessages(block, true);
  const std::string java = javaLog(block);
  const auto lines = static_cast<std::size_t>(std::count(newline.begin(), newline.end(), '\n'));
  fmt::print(
      "input: {} x {:.1f} MB of RFC 5424 messages ({:.0f} bytes each) in 64 KiB reads; "
      "best of {} runs\n",
      repeat, static_cast<double>(newline.size()) / 1e6,
      static_cast<double>(newline.size()) / static_cast<double>(lines), runs);
  fmt::print("MB/s = 10^6 input bytes per second of one core (thread CPU time)\n\n");
  framing("framing newline", FramingMode::kNewline, newline, repeat, runs);
  framing("framing octet-counted", FramingMode::kOctetCounted, octet, repeat, runs);
  framing("framing auto (octet-counted)", FramingMode::kAuto, octet, repeat, runs);
  framing("framing auto (newline)", FramingMode::kAuto, newline, repeat, runs);
  multiline(java, repeat, runs);
  return 0;
}

}  // namespace ingestd::bench

int main(int argc, char** argv) {
  try {
    return ingestd::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_framing: %s\n", e.what());
    return 1;
  }
}
