// Timing for the micro-benchmarks (bench_codec, bench_framing, bench_parsers): the best of
// `runs` runs of a function, in CPU time of the calling thread and in wall time.
#pragma once

#include <time.h>

#include <algorithm>
#include <chrono>
#include <functional>

namespace ingestd::bench {

inline double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Timing {
  double cpu = 1e30;   // best run, seconds
  double wall = 1e30;  // best run, seconds
};

inline Timing measure(int runs, const std::function<void()>& fn) {
  Timing t;
  for (int i = 0; i < runs; ++i) {
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = threadCpuSeconds();
    fn();
    const double c1 = threadCpuSeconds();
    const auto w1 = std::chrono::steady_clock::now();
    t.cpu = std::min(t.cpu, c1 - c0);
    t.wall = std::min(t.wall, std::chrono::duration<double>(w1 - w0).count());
  }
  return t;
}

}  // namespace ingestd::bench
