// Integration: Metrics::serialize() carries ingestd_build_info and the standard Prometheus process
// metrics, read from /proc/self of this (real) process at scrape time.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "agent/metrics/metrics.h"

namespace ingestd {
namespace {

// Sample lines of the text format: "name{labels}" or "name" -> value.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    const auto sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

double nowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST_CASE("metrics: process metrics from /proc/self have plausible values") {
  Metrics metrics;
  const std::string text = metrics.serialize();
  auto s = samples(text);
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                           "process_start_time_seconds"}) {
    CAPTURE(name);
    REQUIRE(s.contains(name));
  }
  CHECK(text.find("# TYPE process_cpu_seconds_total counter") != std::string::npos);
  CHECK(text.find("# TYPE process_open_fds gauge") != std::string::npos);
  CHECK(s["process_cpu_seconds_total"] >= 0);
  CHECK(s["process_cpu_seconds_total"] < 1e6);
  CHECK(s["process_resident_memory_bytes"] > 1024 * 1024);
  CHECK(s["process_virtual_memory_bytes"] >= s["process_resident_memory_bytes"]);
  CHECK(s["process_open_fds"] >= 3);
  CHECK(s["process_max_fds"] >= s["process_open_fds"]);
  CHECK(s["process_max_fds"] == static_cast<double>(::sysconf(_SC_OPEN_MAX)));
  // This test process started within the last day, and not in the future.
  CHECK(s["process_start_time_seconds"] <= nowSeconds() + 1);
  CHECK(s["process_start_time_seconds"] > nowSeconds() - 86400);

  // Read at scrape time: five more descriptors show up in the next scrape.
  constexpr int kMoreFds = 5;
  std::vector<int> fds;
  fds.reserve(kMoreFds);
  for (int i = 0; i < kMoreFds; ++i) {
    fds.push_back(::dup(0));
  }
  auto later = samples(metrics.serialize());
  for (int fd : fds) {
    ::close(fd);
  }
  CHECK(later["process_open_fds"] >= s["process_open_fds"] + kMoreFds);
}

TEST_CASE("metrics: ingestd_build_info carries the version, compiler and gzip codecs") {
  Metrics metrics;
  const std::string text = metrics.serialize();
  CHECK(text.find("# TYPE ingestd_build_info gauge") != std::string::npos);
  auto s = samples(text);
  std::string key;
  for (const auto& [k, v] : s) {
    if (k.rfind("ingestd_build_info{", 0) == 0) {
      key = k;
      CHECK(v == 1);
    }
  }
  REQUIRE(!key.empty());
  CHECK(key.find(std::string("version=\"") + INGESTD_VERSION + "\"") != std::string::npos);
  CHECK(key.find("compiler=\"") != std::string::npos);
  CHECK(key.find("codecs=\"zlib") != std::string::npos);
}

}  // namespace
}  // namespace ingestd
