// The standard metrics of one plugin instance, already labelled, as PluginContext hands them to
// inputs and outputs (DESIGN.md section 7). Counters are atomics: any thread may update them.
// The families and the registry behind them are the core's (agent/metrics/metrics.h).
#pragma once

#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

namespace ingestd {

class Metrics;

// Standard counters of one input instance (label input="<name>").
struct InputMetrics {
  prometheus::Counter* records = nullptr;
  prometheus::Counter* bytes = nullptr;
  prometheus::Gauge* checkpoint_lag_bytes = nullptr;
  prometheus::Counter* paused_seconds = nullptr;
  prometheus::Counter* parse_errors = nullptr;  // records that did not parse (kept as message)
  // reason: truncated (line or message longer than its limit, cut), split (long line cut into
  // several records), no_route (no output matches the tag; only with unrouted: drop),
  // incomplete (a connection closed inside a message), receive_queue_full (datagrams the kernel
  // dropped: the socket's queue was full), buffer_full (a datagram received while
  // the pipeline was full).
  prometheus::Counter& dropped(std::string_view reason);
  // opened, rotated, truncated_file, deleted, checkpoint_corrupt, open_failed.
  prometheus::Counter& event(std::string_view kind);
  // Socket inputs: accepted, refused (max_connections), accept_failed, idle_closed,
  // framing_error (a bad octet count; the bytes up to LF are delivered as one message).
  // Socket inputs only (the series exist once a socket input asks for them).
  prometheus::Counter& socketEvent(std::string_view kind);
  prometheus::Gauge& connections();  // stream connections open
  prometheus::Gauge& listenPort();   // the bound port (0: a Unix socket)
  std::string name;
  Metrics* owner = nullptr;
};

// Standard counters of one output instance (labels output="<name>", table="<destination>": what
// the plugin's destination() said, e.g. the kusto table).
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
  // the service's error code, reduced to a safe label value (errorLabel() in
  // agent/metrics/metrics.h: [A-Za-z0-9_.], at most 64 characters, else "other").
  prometheus::Counter& requests(int http_code, std::string_view error = {});
  // rejected, retries_exhausted, record_too_large.
  prometheus::Counter& dropped(std::string_view reason);
  prometheus::Counter& repaired(std::string_view reason);  // invalid_utf8
  // Blocks compressed with this codec and level (ingestd_output_compressed_blocks_total).
  prometheus::Counter& compressedBlocks(std::string_view codec, int level);
  prometheus::Counter& deadletterWriteErrors();  // failed dead-letter writes (retried)
  prometheus::Counter& deadletterDiscarded();    // blocks not stored: directory full
  prometheus::Counter& tokenRefresh(std::string_view result);  // ok, error
  std::string name;
  std::string table;
  Metrics* owner = nullptr;
};

}  // namespace ingestd
