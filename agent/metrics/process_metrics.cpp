// Process metrics from /proc/self and the build-info gauge (see process_metrics.h).
#include "agent/metrics/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "agent/compress/gzip_codec.h"

namespace ingestd {

namespace {

// The whole of a small procfs file (at most `limit` bytes), or nullopt.
std::optional<std::string> readProcFile(const char* path,
                                        std::size_t limit = std::size_t{64} * 1024) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  std::string text;
  char buf[4096];
  ssize_t n = 0;
  while (text.size() < limit && (n = ::read(fd, buf, sizeof(buf))) > 0) {
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (n < 0) {
    return std::nullopt;
  }
  return text;
}

struct StatFields {
  double utime_ticks = 0;
  double stime_ticks = 0;
  double start_ticks = 0;  // after boot
  double vsize_bytes = 0;
  double rss_pages = 0;
};

// Fields of /proc/self/stat (proc(5)); the command name in parentheses may hold spaces, so
// counting starts after the last ')': field 3 (state) is index 0.
std::optional<StatFields> readStat() {
  auto text = readProcFile("/proc/self/stat");
  if (!text) {
    return std::nullopt;
  }
  auto paren = text->rfind(')');
  if (paren == std::string::npos) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(*text).substr(paren + 1);
  double fields[22] = {};
  for (int i = 0; i < 22; ++i) {
    auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) {
      return std::nullopt;
    }
    rest.remove_prefix(start);
    auto end = rest.find(' ');
    std::string token(rest.substr(0, end));
    fields[i] = i == 0 ? 0 : std::strtod(token.c_str(), nullptr);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  // utime (14), stime (15), starttime (22), vsize (23), rss (24).
  return StatFields{fields[11], fields[12], fields[19], fields[20], fields[21]};
}

// Boot time in seconds since the epoch ("btime" of /proc/stat); read once.
std::optional<double> bootTime() {
  static const std::optional<double> btime = []() -> std::optional<double> {
    auto text = readProcFile("/proc/stat", std::size_t{1024} * 1024);
    if (!text) {
      return std::nullopt;
    }
    auto pos = text->find("\nbtime ");
    if (pos == std::string::npos) {
      return std::nullopt;
    }
    return std::strtod(text->c_str() + pos + 7, nullptr);
  }();
  return btime;
}

std::optional<double> openFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    return std::nullopt;
  }
  double n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') {
      ++n;
    }
  }
  ::closedir(dir);
  return n - 1;  // the descriptor of `dir` itself
}

std::string compiler() {
#if defined(__clang__)
  return fmt::format("clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  return fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

std::string codecList() {
  std::string out;
  for (CodecKind kind : availableCodecs()) {
    out += out.empty() ? "" : ",";
    out += codecName(kind);
  }
  return out;
}

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type,
                                double value, std::vector<prometheus::ClientMetric::Label> l = {}) {
  prometheus::ClientMetric m;
  m.label = std::move(l);
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {std::move(m)}};
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  out.push_back(
      family("ingestd_build_info", "Always 1; the labels say which build of ingestd this is.",
             MetricType::Gauge, 1,
             {{"codecs", codecList()}, {"compiler", compiler()}, {"version", INGESTD_VERSION}}));
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  if (auto st = readStat(); st && ticks > 0) {
    out.push_back(family("process_cpu_seconds_total",
                         "Total user and system CPU time spent in "
                         "seconds.",
                         MetricType::Counter, (st->utime_ticks + st->stime_ticks) / ticks));
    out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.",
                         MetricType::Gauge, st->rss_pages * page));
    out.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         MetricType::Gauge, st->vsize_bytes));
    if (auto btime = bootTime()) {
      out.push_back(family("process_start_time_seconds",
                           "Start time of the process since unix epoch in seconds.",
                           MetricType::Gauge, *btime + st->start_ticks / ticks));
    }
  }
  if (auto fds = openFds()) {
    out.push_back(
        family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, *fds));
  }
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    out.push_back(family("process_max_fds", "Maximum number of open file descriptors.",
                         MetricType::Gauge, static_cast<double>(lim.rlim_cur)));
  }
  return out;
}

void appendProcessMetrics(std::vector<prometheus::MetricFamily>& families) {
  for (auto& f : ProcessCollector().Collect()) {
    families.push_back(std::move(f));
  }
}

}  // namespace ingestd
