// kusto-local engine: the in-memory Kusto model (databases, tables, mappings, policies, rows),
// control commands, the KQL subset and streaming-ingest decoding. No sockets here: the HTTP
// service (service.h) decodes requests and calls into the engine. All methods are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kusto_local {

// A result ready to be sent: an HTTP status and a JSON body (v1 dataset, v2 frames, or a
// OneApi error object built with makeOneApiError()).
// NOLINTNEXTLINE(bugprone-exception-escape): a nlohmann::json member, whose moves do not throw
struct EngineResult {
  int status = 200;
  nlohmann::json body;
};

// Builds {"error":{code, message, @type, @message, @context:{...}, @permanent, @failureCode}}.
// The service fills @context.clientRequestId / activityId later (see addErrorContext).
nlohmann::json makeOneApiError(int http_status, std::string_view code, std::string_view message,
                               std::string_view type, bool permanent);
EngineResult errorResult(int http_status, std::string_view code, std::string_view message,
                         std::string_view type, bool permanent);
// Fills error.@context with the request's ids and a timestamp (no-op for non-error bodies).
void addErrorContext(nlohmann::json& body, std::string_view client_request_id,
                     std::string_view activity_id);

// Serializes a v2 frame array (EngineResult::body of a v2 query) as the service does: one frame
// per line, "[f0\n,f1\n...\n]", each frame starting with its "FrameType" key and the other
// keys in the service's order. The Go SDK's frame reader depends on both; nlohmann::json::dump
// would sort the keys alphabetically instead. Non-array bodies (errors) are dumped as usual.
std::string serializeV2Frames(const nlohmann::json& frames);

struct EngineOptions {
  std::size_t max_ingest_raw_bytes = std::size_t{4} << 20;  // after decompression: 413 over this
  bool require_json_mapping = false;  // strict: JSON kinds without mappingName -> 400
  std::string data_dir;               // empty: memory only; otherwise persisted here
};

struct IngestRequest {
  std::string database;
  std::string table;
  std::string format;        // streamFormat, any case
  std::string mapping_name;  // may be empty
  std::string_view data;     // the decompressed body
};

struct TableStats {
  std::uint64_t records = 0;   // rows stored
  std::uint64_t bytes = 0;     // raw (decompressed) bytes ingested
  std::uint64_t requests = 0;  // successful ingest requests
};

class Engine {
 public:
  explicit Engine(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Loads the persisted state from options.data_dir (if set). Returns an error text or "".
  std::string load();

  // Creates a database if missing (used for --database flags). Persisted when data_dir is set.
  void ensureDatabase(std::string_view name);

  // POST /v1/rest/ingest/{db}/{table}: validates and stores rows; 200 with the v1 one-table
  // body {ConsumedRecordsCount, UpdatePolicyStatus, ...} or a OneApi error.
  EngineResult ingest(const IngestRequest& request);

  // Discard mode: counts records (newline-delimited, or objects for multijson) without
  // validating or storing. Cheap. Returns the record count.
  static std::uint64_t countRecords(std::string_view format, std::string_view data);

  // POST /v1/rest/mgmt: a control command; v1 dataset or OneApi error.
  EngineResult mgmt(std::string_view database, std::string_view csl);

  // POST /v1/rest/query (v2=false, v1 dataset) and /v2/rest/query (v2=true, frames).
  EngineResult query(std::string_view database, std::string_view csl, bool v2);

  // Per "db.table" counters, for GET /kusto-local/stats.
  std::map<std::string, TableStats> tableStats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kusto_local
