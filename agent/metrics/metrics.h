// Metrics: every metric family of ingestd, declared in one place (DESIGN.md section 7), and the
// per-instance views plugins use (InputMetrics, OutputMetrics: agent/plugin/metrics.h). Counters
// are atomics: any thread may update them.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "agent/plugin/metrics.h"

namespace ingestd {

// A value safe to use as a label: [A-Za-z0-9_.] only, at most 64 characters, "other" when the
// text has anything else (a label never carries a message, a path or a URL).
std::string errorLabel(std::string_view code);

class Metrics {
 public:
  Metrics();
  std::shared_ptr<prometheus::Registry> registry() { return registry_; }

  InputMetrics forInput(const std::string& name);
  OutputMetrics forOutput(const std::string& name, const std::string& table);

  // Text exposition format of everything, for GET /metrics.
  std::string serialize() const;
  // Records acknowledged by every output together (ingestd_output_records_total summed).
  double deliveredRecords() const;

  // Process-wide.
  prometheus::Gauge& memoryUsedBytes() { return *memory_used_; }
  prometheus::Gauge& memoryLimitBytes() { return *memory_limit_; }
  prometheus::Gauge& deadletterBytes() { return *deadletter_bytes_; }
  prometheus::Histogram& loopLag() { return *loop_lag_; }
  // ingestd_backpressure_causes{cause}: memory, backlog, stalled.
  prometheus::Gauge& backpressure(std::string_view cause);

  // Families (public so InputMetrics/OutputMetrics can add labelled children).
  prometheus::Family<prometheus::Counter>* input_records;
  prometheus::Family<prometheus::Counter>* input_bytes;
  prometheus::Family<prometheus::Counter>* input_dropped;
  prometheus::Family<prometheus::Counter>* input_events;
  prometheus::Family<prometheus::Counter>* input_socket_events;
  prometheus::Family<prometheus::Gauge>* input_connections;
  prometheus::Family<prometheus::Gauge>* input_listen_port;
  prometheus::Family<prometheus::Counter>* input_paused_seconds;
  prometheus::Family<prometheus::Gauge>* checkpoint_lag;
  prometheus::Family<prometheus::Counter>* input_parse_errors;
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
  prometheus::Family<prometheus::Counter>* output_repaired;
  prometheus::Family<prometheus::Counter>* output_compressed_blocks;
  prometheus::Family<prometheus::Counter>* output_deadletter_errors;
  prometheus::Family<prometheus::Counter>* output_deadletter_discarded;
  prometheus::Family<prometheus::Gauge>* output_last_success;
  prometheus::Family<prometheus::Gauge>* output_oldest_unacked;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* memory_used_;
  prometheus::Gauge* memory_limit_;
  prometheus::Gauge* deadletter_bytes_;
  prometheus::Histogram* loop_lag_;
  prometheus::Family<prometheus::Gauge>* backpressure_;
};

}  // namespace ingestd
