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
  input_records = &BuildCounter().Name("ingestd_input_records_total")
                       .Help("Records read by an input.").Register(r);
  input_bytes = &BuildCounter().Name("ingestd_input_bytes_total")
                     .Help("Bytes read by an input.").Register(r);
  input_dropped = &BuildCounter().Name("ingestd_input_dropped_records_total")
                       .Help("Records an input dropped or altered, by reason.").Register(r);
  input_events = &BuildCounter().Name("ingestd_input_file_events_total")
                      .Help("File events seen by tail inputs: opened, rotated, truncated, "
                            "deleted.").Register(r);
  input_paused_seconds = &BuildCounter().Name("ingestd_input_paused_seconds_total")
                              .Help("Seconds an input spent paused by backpressure.").Register(r);
  checkpoint_lag = &BuildGauge().Name("ingestd_checkpoint_lag_bytes")
                        .Help("Bytes in watched files not yet acknowledged by every output.")
                        .Register(r);
  output_records = &BuildCounter().Name("ingestd_output_records_total")
                        .Help("Records acknowledged by the service.").Register(r);
  output_bytes = &BuildCounter().Name("ingestd_output_bytes_total")
                      .Help("Acknowledged bytes, raw (encoded, before compression) and "
                            "compressed (as sent).").Register(r);
  output_blocks = &BuildCounter().Name("ingestd_output_blocks_total")
                       .Help("Blocks by final result: delivered, rejected, expired.").Register(r);
  output_requests = &BuildCounter().Name("ingestd_output_requests_total")
                         .Help("Requests by HTTP status code (0: no response).").Register(r);
  output_retries = &BuildCounter().Name("ingestd_output_retries_total")
                        .Help("Block send attempts that will be retried.").Register(r);
  output_dropped = &BuildCounter().Name("ingestd_output_dropped_records_total")
                        .Help("Records that did not reach the table, by reason.").Register(r);
  output_duration = &BuildHistogram().Name("ingestd_output_request_duration_seconds")
                         .Help("Duration of ingest requests.").Register(r);
  output_deadletter = &BuildCounter().Name("ingestd_output_deadletter_blocks_total")
                           .Help("Blocks written to the dead-letter directory.").Register(r);
  buffer_bytes = &BuildGauge().Name("ingestd_buffer_bytes")
                      .Help("Bytes buffered for an output, by kind (memory, disk).").Register(r);
  output_in_flight = &BuildGauge().Name("ingestd_output_requests_in_flight")
                          .Help("Ingest requests on the wire.").Register(r);
  auth_refresh = &BuildCounter().Name("ingestd_auth_token_refresh_total")
                      .Help("Token acquisitions by result.").Register(r);
  memory_used_ = &BuildGauge().Name("ingestd_memory_budget_used_bytes")
                      .Help("Bytes held against service.memory_limit.").Register(r).Add({});
  memory_limit_ = &BuildGauge().Name("ingestd_memory_budget_limit_bytes")
                       .Help("service.memory_limit.").Register(r).Add({});
  loop_lag_ = &BuildHistogram().Name("ingestd_loop_callback_seconds")
                   .Help("Duration of long event-loop callbacks.").Register(r)
                   .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.025, 0.1,
                                                                     0.5, 2});
}

InputMetrics Metrics::forInput(const std::string& name) {
  InputMetrics m;
  m.name = name;
  m.owner = this;
  m.records = &input_records->Add({{"input", name}});
  m.bytes = &input_bytes->Add({{"input", name}});
  m.checkpoint_lag_bytes = &checkpoint_lag->Add({{"input", name}});
  m.paused_seconds = &input_paused_seconds->Add({{"input", name}});
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
  auto disk = l;
  disk["kind"] = "disk";
  m.buffer_disk_bytes = &buffer_bytes->Add(disk);
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

prometheus::Counter& OutputMetrics::requests(int http_code) {
  return owner->output_requests->Add(
      {{"output", name}, {"table", table}, {"code", std::to_string(http_code)}});
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
