// IngestdHarness: an e2e fixture that runs kusto-local (database Logs, table(s) with a JSON
// mapping and streaming enabled) and the ingestd binary with a generated YAML config, writes
// log lines carrying unique sequence numbers, and checks exactly which numbers arrived.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/support/kusto_local.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ingestd::test {

// What arrived in a table: how many rows carried each sequence number.
struct Arrivals {
  std::map<std::int64_t, int> counts;
  std::int64_t rows = 0;
  // Numbers in [0, n) that never arrived.
  std::vector<std::int64_t> missing(std::int64_t n) const;
  std::int64_t duplicates() const;  // rows beyond the first for each number
};

class IngestdHarness {
 public:
  static constexpr const char* kDb = "Logs";

  explicit IngestdHarness(std::vector<std::string> kusto_args = {});
  ~IngestdHarness();

  TempDir& dir() { return dir_; }
  KustoLocal& kusto() { return *kusto_; }

  // Creates table `name` (timestamp, tag, host, source, message) with JSON mapping
  // "<name>_json" and streaming enabled.
  void createTable(const std::string& name);

  // Writes the config file; `inputs_yaml`/`outputs_yaml` are YAML list items (indented by 2).
  // Returns its path. service.state_dir is <dir>/state; metrics on 127.0.0.1:0.
  std::string writeConfig(const std::string& inputs_yaml, const std::string& outputs_yaml,
                          const std::string& service_extra = "");
  // A kusto output item pointing at kusto-local; `batch` is the flow-style batch mapping.
  std::string kustoOutput(const std::string& name, const std::string& table,
                          const std::string& match = "*", const std::string& extra = "",
                          const std::string& batch = "{ max_delay: 200ms }") const;
  // A tail input item.
  static std::string tailInput(const std::string& name, const std::string& path_glob,
                               const std::string& extra = "");

  // Starts `ingestd run -c config`; waits for the "started" log line. Returns false on failure.
  bool startIngestd(const std::string& config);
  // The same, run through `prefix` (e.g. {"setpriv", "--reuid=65534", ..., "--"}).
  bool startIngestd(const std::string& config, const std::vector<std::string>& prefix);
  // The same, with `env` added to ingestd's environment.
  bool startIngestd(const std::string& config, const std::vector<std::string>& prefix,
                    const std::map<std::string, std::string>& env);
  Process& ingestd() { return *ingestd_; }
  // SIGTERM and wait; returns the exit code.
  std::optional<int> stopIngestd(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void killIngestd();  // SIGKILL and reap
  int metricsPort() const { return metrics_port_; }

  // Scrapes /metrics and sums every sample of `name` whose labels contain all `labels`
  // (e.g. {"result=\"delivered\""}).
  double metric(const std::string& name, const std::vector<std::string>& labels = {});
  // VmRSS of the ingestd process in bytes (0 if unknown).
  std::uint64_t ingestdRss();

  // Appends lines "seq=<n> <payload>" for n in [from, to) to `path`.
  // With `random_payload`, the payload is pseudo-random letters (compresses about 1.6:1, like
  // real logs do at best) instead of a run of 'x'.
  static void appendLines(const std::string& path, std::int64_t from, std::int64_t to,
                          std::size_t payload_bytes = 60, bool random_payload = false);
  // Reads every message of `table` and counts sequence numbers.
  Arrivals arrivals(const std::string& table);
  // Waits until every number in [0, n) arrived in `table`.
  bool waitForAll(const std::string& table, std::int64_t n, std::chrono::milliseconds timeout);

 private:
  TempDir dir_;
  std::unique_ptr<KustoLocal> kusto_;
  std::unique_ptr<Process> ingestd_;
  int metrics_port_ = 0;
};

}  // namespace ingestd::test
