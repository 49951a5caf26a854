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
  prometheus::Counter* parse_errors = nullptr;  // records that did not parse (kept as message)
  // reason: truncated (line longer than max_line_bytes, cut), split (long line cut into
  // several records), no_route (no output matches the tag; only with unrouted: drop).
  prometheus::Counter& dropped(std::string_view reason);
  // opened, rotated, truncated_file, deleted, checkpoint_corrupt, open_failed.
  prometheus::Counter& event(std::string_view kind);
  std::string name;
  class Metrics* owner = nullptr;
};

// Standard counters of one output instance (labels output="<name>", table="<table>").
struct OutputMetrics {
  prometheus::Counter* records = nullptr;           // acknowledged records
  prometheus::Counter* bytes_raw = nullptr;         // acknowledged, before compression
  prometheus::Counter* bytes_compressed = nullptr;  // acknowledged, as sent
  prometheus::Counter* retries = nullptr;
  prometheus::Counter* deadletter_blocks = nullptr;
  prometheus::Histogram* request_duration = nullptr;
  prometheus::Gauge* buffer_memory_bytes = nullptr;
  prometheus::Gauge* requests_in_flight = nullptr;
  prometheus::Gauge* last_success = nullptr;             // unix time of the last delivered block
  prometheus::Gauge* oldest_unacked_age = nullptr;       // seconds; 0 when nothing is pending
  prometheus::Counter& blocks(std::string_view result);  // delivered, rejected, expired
  // code: the HTTP status ("0": no response); error: "" for 2xx, else the transport error
  // kind (Timeout, ConnectFailed, ResolveFailed, TlsError, ConnectionDropped, NetworkError) or
  // the service's error code, reduced to a safe label value (see errorLabel()).
  prometheus::Counter& requests(int http_code, std::string_view error = {});
  // rejected, retries_exhausted, record_too_large.
  prometheus::Counter& dropped(std::string_view reason);
  prometheus::Counter& repaired(std::string_view reason);  // invalid_utf8
  prometheus::Counter& deadletterWriteErrors();            // failed dead-letter writes (retried)
  prometheus::Counter& deadletterDiscarded();              // blocks not stored: directory full
  prometheus::Counter& tokenRefresh(std::string_view result);  // ok, error
  std::string name;
  std::string table;
  class Metrics* owner = nullptr;
};

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

  // Families (public so InputMetrics/OutputMetrics can add labelled children).
  prometheus::Family<prometheus::Counter>* input_records;
  prometheus::Family<prometheus::Counter>* input_bytes;
  prometheus::Family<prometheus::Counter>* input_dropped;
  prometheus::Family<prometheus::Counter>* input_events;
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
};

}  // namespace ingestd
