// Metrics: every metric family of ingestd, declared in one place (DESIGN.md section 7), and the
// per-instance views plugins use. Counters are atomics: any thread may update them.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace ingestd {

// Standard counters of one input instance (label input="<name>").
struct InputMetrics {
  prometheus::Counter* records = nullptr;
  prometheus::Counter* bytes = nullptr;
  prometheus::Gauge* checkpoint_lag_bytes = nullptr;
  prometheus::Counter* paused_seconds = nullptr;
  // reason: truncated (line longer than max_line_bytes, cut), split, invalid_utf8 (repaired,
  // not dropped), rotated_unread (never: we read rotated files to the end), overflow, ...
  prometheus::Counter& dropped(std::string_view reason);
  prometheus::Counter& event(std::string_view kind);  // rotated, truncated_file, deleted, ...
  std::string name;
  class Metrics* owner = nullptr;
};

// Standard counters of one output instance (labels output="<name>", table="<table>").
struct OutputMetrics {
  prometheus::Counter* records = nullptr;          // acknowledged records
  prometheus::Counter* bytes_raw = nullptr;        // acknowledged, before compression
  prometheus::Counter* bytes_compressed = nullptr; // acknowledged, as sent
  prometheus::Counter* retries = nullptr;
  prometheus::Counter* deadletter_blocks = nullptr;
  prometheus::Histogram* request_duration = nullptr;
  prometheus::Gauge* buffer_memory_bytes = nullptr;
  prometheus::Gauge* requests_in_flight = nullptr;
  prometheus::Gauge* buffer_disk_bytes = nullptr;
  prometheus::Counter& blocks(std::string_view result);   // delivered, rejected, retried
  prometheus::Counter& requests(int http_code);           // code="0" for no response
  prometheus::Counter& dropped(std::string_view reason);  // records that did not arrive
  prometheus::Counter& tokenRefresh(std::string_view result);  // ok, error
  std::string name;
  std::string table;
  class Metrics* owner = nullptr;
};

class Metrics {
 public:
  Metrics();
  std::shared_ptr<prometheus::Registry> registry() { return registry_; }

  InputMetrics forInput(const std::string& name);
  OutputMetrics forOutput(const std::string& name, const std::string& table);

  // Text exposition format of everything, for GET /metrics.
  std::string serialize() const;

  // Process-wide.
  prometheus::Gauge& memoryUsedBytes() { return *memory_used_; }
  prometheus::Gauge& memoryLimitBytes() { return *memory_limit_; }
  prometheus::Histogram& loopLag() { return *loop_lag_; }

  // Families (public so InputMetrics/OutputMetrics can add labelled children).
  prometheus::Family<prometheus::Counter>* input_records;
  prometheus::Family<prometheus::Counter>* input_bytes;
  prometheus::Family<prometheus::Counter>* input_dropped;
  prometheus::Family<prometheus::Counter>* input_events;
  prometheus::Family<prometheus::Counter>* input_paused_seconds;
  prometheus::Family<prometheus::Gauge>* checkpoint_lag;
  prometheus::Family<prometheus::Counter>* output_records;
  prometheus::Family<prometheus::Counter>* output_bytes;
  prometheus::Family<prometheus::Counter>* output_blocks;
  prometheus::Family<prometheus::Counter>* output_requests;
  prometheus::Family<prometheus::Counter>* output_retries;
  prometheus::Family<prometheus::Counter>* output_dropped;
  prometheus::Family<prometheus::Histogram>* output_duration;
  prometheus::Family<prometheus::Counter>* output_deadletter;
  prometheus::Family<prometheus::Gauge>* buffer_bytes;
  prometheus::Family<prometheus::Gauge>* output_in_flight;
  prometheus::Family<prometheus::Counter>* auth_refresh;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* memory_used_;
  prometheus::Gauge* memory_limit_;
  prometheus::Histogram* loop_lag_;
};

}  // namespace ingestd
