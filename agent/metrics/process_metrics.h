// Process metrics in the standard Prometheus client form (process_cpu_seconds_total,
// process_resident_memory_bytes, ...) and ingestd_build_info, computed at scrape time.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

namespace ingestd {

// Collect() reads /proc/self/stat, /proc/self/fd and getrlimit() on the calling thread (the
// loop, when /metrics is scraped): procfs answers from memory, so this does not block on disk.
// It costs one directory entry per open descriptor. Values that cannot be read are left out.
class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

// Appends ProcessCollector's families to `families` (prometheus-cpp's Registry cannot hold a
// Collectable, so Metrics::serialize() adds them to what the registry collected).
void appendProcessMetrics(std::vector<prometheus::MetricFamily>& families);

}  // namespace ingestd
