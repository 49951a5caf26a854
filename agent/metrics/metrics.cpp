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

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  input_records = &BuildCounter()
                       .Name("ingestd_input_records_total")
                       .Help("Records read by an input.")
                       .Register(r);
  input_bytes =
      &BuildCounter().Name("ingestd_input_bytes_total").Help("Bytes read by an input.").Register(r);
  input_dropped = &BuildCounter()
                       .Name("ingestd_input_dropped_records_total")
                       .Help("Records an input dropped or altered, by reason.")
                       .Register(r);
  input_events = &BuildCounter()
                      .Name("ingestd_input_file_events_total")
                      .Help(
                          "File events seen by tail inputs: opened, rotated, truncated, "
                          "deleted.")
                      .Register(r);
  input_paused_seconds = &BuildCounter()
                              .Name("ingestd_input_paused_seconds_total")
                              .Help("Seconds an input spent paused by backpressure.")
                              .Register(r);
  checkpoint_lag = &BuildGauge()
                        .Name("ingestd_checkpoint_lag_bytes")
                        .Help("Bytes in watched files not yet acknowledged by every output.")
                        .Register(r);
  input_parse_errors = &BuildCounter()
                            .Name("ingestd_input_parse_errors_total")
                            .Help("Records that did not parse (sent whole as message).")
                            .Register(r);
  output_records = &BuildCounter()
                        .Name("ingestd_output_records_total")
                        .Help("Records acknowledged by the service.")
                        .Register(r);
  output_bytes = &BuildCounter()
                      .Name("ingestd_output_bytes_total")
                      .Help(
                          "Acknowledged bytes, raw (encoded, before compression) and "
                          "compressed (as sent).")
                      .Register(r);
  output_blocks = &BuildCounter()
                       .Name("ingestd_output_blocks_total")
                       .Help("Blocks by final result: delivered, rejected, expired.")
                       .Register(r);
  output_requests = &BuildCounter()
                         .Name("ingestd_output_requests_total")
                         .Help("Requests by HTTP status code (0: no response) and error kind.")
                         .Register(r);
  output_retries = &BuildCounter()
                        .Name("ingestd_output_retries_total")
                        .Help("Block send attempts that will be retried.")
                        .Register(r);
  output_dropped = &BuildCounter()
                        .Name("ingestd_output_dropped_records_total")
                        .Help("Records that did not reach the table, by reason.")
                        .Register(r);
  output_duration = &BuildHistogram()
                         .Name("ingestd_output_request_duration_seconds")
                         .Help("Duration of ingest requests.")
                         .Register(r);
  output_deadletter = &BuildCounter()
                           .Name("ingestd_output_deadletter_blocks_total")
                           .Help("Blocks written to the dead-letter directory.")
                           .Register(r);
  buffer_bytes = &BuildGauge()
                      .Name("ingestd_buffer_bytes")
                      .Help("Bytes buffered for an output, by kind (memory, disk).")
                      .Register(r);
  output_in_flight = &BuildGauge()
                          .Name("ingestd_output_requests_in_flight")
                          .Help("Ingest requests on the wire.")
                          .Register(r);
  auth_refresh = &BuildCounter()
                      .Name("ingestd_auth_token_refresh_total")
                      .Help("Token acquisitions by result.")
                      .Register(r);
  output_repaired = &BuildCounter()
                         .Name("ingestd_output_repaired_records_total")
                         .Help(
                             "Records sent with a repair, by reason (invalid_utf8: replaced "
                             "by U+FFFD).")
                         .Register(r);
  output_deadletter_errors = &BuildCounter()
                                  .Name("ingestd_output_deadletter_write_errors_total")
                                  .Help(
                                      "Dead-letter writes that failed (the block is kept and "
                                      "written again).")
                                  .Register(r);
  output_deadletter_discarded =
      &BuildCounter()
           .Name("ingestd_output_deadletter_discarded_blocks_total")
           .Help("Blocks not stored because the dead-letter directory is at its max_size.")
           .Register(r);
  output_last_success = &BuildGauge()
                             .Name("ingestd_output_last_success_timestamp_seconds")
                             .Help(
                                 "Unix time of the last block the service acknowledged "
                                 "(0: none yet).")
                             .Register(r);
  output_oldest_unacked = &BuildGauge()
                               .Name("ingestd_output_oldest_unacked_age_seconds")
                               .Help(
                                   "Age of the oldest record routed to an output and not yet "
                                   "acknowledged (0: nothing pending).")
                               .Register(r);
  deadletter_bytes_ = &BuildGauge()
                           .Name("ingestd_deadletter_bytes")
                           .Help("Bytes in the dead-letter directory.")
                           .Register(r)
                           .Add({});
  memory_used_ = &BuildGauge()
                      .Name("ingestd_memory_budget_used_bytes")
                      .Help("Bytes held against service.memory_limit.")
                      .Register(r)
                      .Add({});
  memory_limit_ = &BuildGauge()
                       .Name("ingestd_memory_budget_limit_bytes")
                       .Help("service.memory_limit.")
                       .Register(r)
                       .Add({});
  loop_lag_ =
      &BuildHistogram()
           .Name("ingestd_loop_callback_seconds")
           .Help(
               "Event-loop lag: how late a 100 ms timer fired (callbacks kept the "
               "loop busy that long).")
           .Register(r)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.025, 0.1, 0.5, 2});
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

prometheus::Counter& OutputMetrics::repaired(std::string_view reason) {
  return owner->output_repaired->Add(
      {{"output", name}, {"table", table}, {"reason", std::string(reason)}});
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

std::string Metrics::serialize() const {
  prometheus::TextSerializer serializer;
  std::ostringstream out;
  auto families = registry_->Collect();
  appendProcessMetrics(families);  // process_* and ingestd_build_info, read at scrape time
  serializer.Serialize(out, families);
  return out.str();
}

}  // namespace ingestd
