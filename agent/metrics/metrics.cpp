// Metrics: the families of DESIGN.md section 7, and labelled per-instance views.
#include "agent/metrics/metrics.h"

#include <sstream>

#include <prometheus/text_serializer.h>

#include "agent/metrics/process_metrics.h"

namespace ingestd {

namespace {

prometheus::Histogram::BucketBoundaries requestBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
}

template <class Builder>
auto* family(Builder builder, prometheus::Registry& r, const char* name, const char* help) {
  return &builder.Name(name).Help(help).Register(r);
}
prometheus::Family<prometheus::Counter>* counterFamily(prometheus::Registry& r, const char* name,
                                                       const char* help) {
  return family(prometheus::BuildCounter(), r, name, help);
}
prometheus::Family<prometheus::Gauge>* gaugeFamily(prometheus::Registry& r, const char* name,
                                                   const char* help) {
  return family(prometheus::BuildGauge(), r, name, help);
}
prometheus::Family<prometheus::Histogram>* histogramFamily(prometheus::Registry& r,
                                                           const char* name, const char* help) {
  return family(prometheus::BuildHistogram(), r, name, help);
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  input_records = counterFamily(r, "ingestd_input_records_total", "Records read by an input.");
  input_bytes = counterFamily(r, "ingestd_input_bytes_total", "Bytes read by an input.");
  input_dropped = counterFamily(r, "ingestd_input_dropped_records_total",
                                "Records an input dropped or altered, by reason.");
  input_events =
      counterFamily(r, "ingestd_input_file_events_total",
                    "File events seen by tail inputs: opened, rotated, truncated, deleted.");
  input_socket_events =
      counterFamily(r, "ingestd_input_socket_events_total",
                    "Socket input events: accepted, refused, accept_failed, idle_closed, "
                    "framing_error.");
  input_connections =
      gaugeFamily(r, "ingestd_input_connections", "Stream connections open on a socket input.");
  input_listen_port = gaugeFamily(r, "ingestd_input_listen_port",
                                  "The port a socket input is bound to (0: a Unix socket).");
  input_paused_seconds = counterFamily(r, "ingestd_input_paused_seconds_total",
                                       "Seconds an input spent paused by backpressure.");
  checkpoint_lag = gaugeFamily(r, "ingestd_checkpoint_lag_bytes",
                               "Bytes in watched files not yet acknowledged by every output.");
  input_parse_errors = counterFamily(r, "ingestd_input_parse_errors_total",
                                     "Records that did not parse (sent whole as message).");
  output_records =
      counterFamily(r, "ingestd_output_records_total", "Records acknowledged by the service.");
  output_bytes = counterFamily(
      r, "ingestd_output_bytes_total",
      "Acknowledged bytes, raw (encoded, before compression) and compressed (as sent).");
  output_blocks = counterFamily(r, "ingestd_output_blocks_total",
                                "Blocks by final result: delivered, rejected, expired.");
  output_requests = counterFamily(r, "ingestd_output_requests_total",
                                  "Requests by HTTP status code (0: no response) and error kind.");
  output_retries =
      counterFamily(r, "ingestd_output_retries_total", "Block send attempts that will be retried.");
  output_dropped = counterFamily(r, "ingestd_output_dropped_records_total",
                                 "Records that did not reach the table, by reason.");
  output_duration =
      histogramFamily(r, "ingestd_output_request_duration_seconds", "Duration of ingest requests.");
  output_deadletter = counterFamily(r, "ingestd_output_deadletter_blocks_total",
                                    "Blocks written to the dead-letter directory.");
  buffer_bytes =
      gaugeFamily(r, "ingestd_buffer_bytes", "Bytes buffered for an output, by kind (memory).");
  output_in_flight =
      gaugeFamily(r, "ingestd_output_requests_in_flight", "Ingest requests on the wire.");
  auth_refresh =
      counterFamily(r, "ingestd_auth_token_refresh_total", "Token acquisitions by result.");
  output_compressed_blocks =
      counterFamily(r, "ingestd_output_compressed_blocks_total",
                    "Blocks compressed, by codec and level (with compression.level: adaptive, "
                    "how the levels were used).");
  output_repaired =
      counterFamily(r, "ingestd_output_repaired_records_total",
                    "Records sent with a repair, by reason (invalid_utf8: replaced by U+FFFD).");
  output_deadletter_errors =
      counterFamily(r, "ingestd_output_deadletter_write_errors_total",
                    "Dead-letter writes that failed (the block is kept and written again).");
  output_deadletter_discarded =
      counterFamily(r, "ingestd_output_deadletter_discarded_blocks_total",
                    "Blocks not stored because the dead-letter directory is at its max_size.");
  output_last_success =
      gaugeFamily(r, "ingestd_output_last_success_timestamp_seconds",
                  "Unix time of the last block the service acknowledged (0: none yet).");
  output_oldest_unacked = gaugeFamily(r, "ingestd_output_oldest_unacked_age_seconds",
                                      "Age of the oldest record routed to an output and not yet "
                                      "acknowledged (0: nothing pending).");
  deadletter_bytes_ =
      &gaugeFamily(r, "ingestd_deadletter_bytes", "Bytes in the dead-letter directory.")->Add({});
  memory_used_ = &gaugeFamily(r, "ingestd_memory_budget_used_bytes",
                              "Bytes held against service.memory_limit.")
                      ->Add({});
  memory_limit_ =
      &gaugeFamily(r, "ingestd_memory_budget_limit_bytes", "service.memory_limit.")->Add({});
  backpressure_ = gaugeFamily(r, "ingestd_backpressure_causes",
                              "Causes holding inputs now, by kind (memory: budget full; backlog: "
                              "an output's encoders behind; stalled: dead letters not storable).");
  for (const char* cause : {"memory", "backlog", "stalled"}) {
    backpressure_->Add({{"cause", cause}});
  }
  loop_lag_ =
      &histogramFamily(r, "ingestd_loop_callback_seconds",
                       "Event-loop lag: how late a 100 ms timer fired (callbacks kept the loop "
                       "busy that long).")
           ->Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.025, 0.1, 0.5, 2});
}

InputMetrics Metrics::forInput(const std::string& name) {
  InputMetrics m;
  m.name = name;
  m.owner = this;
  m.records = &input_records->Add({{"input", name}});
  m.bytes = &input_bytes->Add({{"input", name}});
  m.checkpoint_lag_bytes = &checkpoint_lag->Add({{"input", name}});
  m.paused_seconds = &input_paused_seconds->Add({{"input", name}});
  m.parse_errors = &input_parse_errors->Add({{"input", name}});
  // Every known label value exists from the start, so increase() sees the first event.
  for (const char* reason : {"truncated", "split", "no_route", "truncated_file"}) {
    m.dropped(reason);
  }
  for (const char* kind :
       {"opened", "rotated", "truncated_file", "deleted", "checkpoint_corrupt", "open_failed"}) {
    m.event(kind);
  }
  return m;
}

OutputMetrics Metrics::forOutput(const std::string& name, const std::string& table) {
  OutputMetrics m;
  m.name = name;
  m.table = table;
  m.owner = this;
  prometheus::Labels l{{"output", name}, {"table", table}};
  m.records = &output_records->Add(l);
  auto raw = l;
  raw["stage"] = "raw";
  m.bytes_raw = &output_bytes->Add(raw);
  auto comp = l;
  comp["stage"] = "compressed";
  m.bytes_compressed = &output_bytes->Add(comp);
  m.retries = &output_retries->Add(l);
  m.deadletter_blocks = &output_deadletter->Add(l);
  m.requests_in_flight = &output_in_flight->Add(l);
  m.request_duration = &output_duration->Add(l, requestBuckets());
  auto mem = l;
  mem["kind"] = "memory";
  m.buffer_memory_bytes = &buffer_bytes->Add(mem);
  m.last_success = &output_last_success->Add(l);
  m.oldest_unacked_age = &output_oldest_unacked->Add(l);
  for (const char* result : {"delivered", "rejected", "expired"}) {
    m.blocks(result);
  }
  for (const char* reason : {"rejected", "retries_exhausted", "record_too_large"}) {
    m.dropped(reason);
  }
  m.repaired("invalid_utf8");
  m.deadletterWriteErrors();
  m.deadletterDiscarded();
  for (const char* result : {"ok", "error"}) {
    m.tokenRefresh(result);
  }
  return m;
}

prometheus::Counter& InputMetrics::dropped(std::string_view reason) {
  return owner->input_dropped->Add({{"input", name}, {"reason", std::string(reason)}});
}

prometheus::Counter& InputMetrics::event(std::string_view kind) {
  return owner->input_events->Add({{"input", name}, {"event", std::string(kind)}});
}

prometheus::Counter& InputMetrics::socketEvent(std::string_view kind) {
  return owner->input_socket_events->Add({{"input", name}, {"event", std::string(kind)}});
}

prometheus::Gauge& InputMetrics::connections() {
  return owner->input_connections->Add({{"input", name}});
}

prometheus::Gauge& InputMetrics::listenPort() {
  return owner->input_listen_port->Add({{"input", name}});
}

prometheus::Counter& OutputMetrics::blocks(std::string_view result) {
  return owner->output_blocks->Add(
      {{"output", name}, {"table", table}, {"result", std::string(result)}});
}

prometheus::Counter& OutputMetrics::requests(int http_code, std::string_view error) {
  return owner->output_requests->Add(
      {{"output", name},
       {"table", table},
       {"code", std::to_string(http_code)},
       {"error", error.empty() ? std::string() : errorLabel(error)}});
}

prometheus::Gauge& Metrics::backpressure(std::string_view cause) {
  return backpressure_->Add({{"cause", std::string(cause)}});
}

prometheus::Counter& OutputMetrics::repaired(std::string_view reason) {
  return owner->output_repaired->Add(
      {{"output", name}, {"table", table}, {"reason", std::string(reason)}});
}

prometheus::Counter& OutputMetrics::compressedBlocks(std::string_view codec, int level) {
  return owner->output_compressed_blocks->Add({{"output", name},
                                               {"table", table},
                                               {"codec", std::string(codec)},
                                               {"level", std::to_string(level)}});
}

prometheus::Counter& OutputMetrics::deadletterWriteErrors() {
  return owner->output_deadletter_errors->Add({{"output", name}, {"table", table}});
}

prometheus::Counter& OutputMetrics::deadletterDiscarded() {
  return owner->output_deadletter_discarded->Add({{"output", name}, {"table", table}});
}

std::string errorLabel(std::string_view code) {
  if (code.empty() || code.size() > 64) {
    return "other";
  }
  for (char c : code) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.';
    if (!ok) {
      return "other";
    }
  }
  return std::string(code);
}

prometheus::Counter& OutputMetrics::dropped(std::string_view reason) {
  return owner->output_dropped->Add(
      {{"output", name}, {"table", table}, {"reason", std::string(reason)}});
}

prometheus::Counter& OutputMetrics::tokenRefresh(std::string_view result) {
  return owner->auth_refresh->Add({{"output", name}, {"result", std::string(result)}});
}

double Metrics::deliveredRecords() const {
  double total = 0;
  for (const auto& family : output_records->Collect()) {
    for (const auto& m : family.metric) {
      total += m.counter.value;
    }
  }
  return total;
}

std::string Metrics::serialize() const {
  prometheus::TextSerializer serializer;
  std::ostringstream out;
  auto families = registry_->Collect();
  appendProcessMetrics(families);  // process_* and ingestd_build_info, read at scrape time
  serializer.Serialize(out, families);
  return out.str();
}

}  // namespace ingestd
