// KustoOutput: streams encoded, gzip-compressed blocks into one Azure Data Explorer table with
// the streaming-ingestion REST API. One send() is one attempt (plus one retry after a token
// refresh on 401); batching, retries with backoff, dead-lettering and acks are the pipeline's.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/core/status.h"
#include "agent/plugin/config.h"
#include "agent/plugin/http.h"
#include "agent/plugin/payload.h"
#include "agent/plugin/plugin.h"
#include "plugins/outputs/kusto/kusto_auth.h"
#include "plugins/outputs/kusto/kusto_classify.h"
#include "plugins/outputs/kusto/kusto_request.h"

namespace ingestd::outputs {

class KustoOutput final : public Output {
 public:
  static constexpr std::string_view kName = "kusto";
  // The SDKs never send more than 10 MiB in one streaming request (spec section 2); the service
  // would refuse it, so send() rejects a bigger body without a round trip.
  static constexpr std::uint64_t kMaxRequestBody = 10u << 20;

  struct Settings {
    std::string cluster;   // as configured
    std::string endpoint;  // scheme://host[:port] requests go to ("ingest-" stripped)
    std::string database;
    std::string table;
    std::string format = "multijson";  // multijson, json, csv, tsv, txt
    std::string mapping;               // pre-created ingestion mapping (mappingName)
    std::vector<std::string> columns;  // csv/tsv field order
    kusto::AuthSettings auth;
    std::string ca_file;     // tls.ca_file
    bool tls_verify = true;  // tls.verify
    std::string proxy;
    std::chrono::milliseconds timeout{630000};  // 10 min + 30 s, as the SDKs (spec 1.6)
    std::chrono::milliseconds connect_timeout{10000};
    std::chrono::milliseconds retry_after_max{60000};  // cap on a Retry-After the service sends
    std::string app_name = "ingestd";                  // x-ms-app
    std::string request_id_prefix = "ingestd";         // x-ms-client-request-id prefix
    bool ingest_prefix_strip = true;
    bool allow_insecure_http = false;
    std::size_t concurrency = 4;  // the pipeline's key, read to size the connection pool
  };

  // Pure: no files, no sockets. Errors name the file, line, column and key.
  static Result<Settings> parse(const ConfigNode& node);
  // Before start (`check`, `run`, `send`; blocking file-system calls): tls.ca_file is a readable
  // file holding a PEM certificate; token_file / client_secret_file exist and are readable
  // (their content is not read: the output reads it when it starts, and at every refresh).
  static Status validate(const ConfigNode& node, const Settings& settings,
                         ValidationReport& report);
  static Result<std::unique_ptr<Output>> create(const Settings& settings, PluginContext& ctx);
  // For `ingestd check`: destination, format, mapping, auth method, where secrets come from,
  // TLS; with `checked` (from validate()) also what was found about each file. Never a secret.
  static std::string describe(const Settings& settings, const ValidationReport* checked = nullptr);
  // Where records go: the table, which labels the output's metrics (table="...").
  static std::string destination(const Settings& settings) { return settings.table; }

  KustoOutput(const Settings& settings, PluginContext& ctx);
  ~KustoOutput() override;

  // Output
  Status start() override;
  void send(Payload payload, std::function<void(SendOutcome)> done) override;
  void stop(std::function<void()> done) override;
  // The Kusto ingestion format, one of multijson, json, csv, tsv, txt (the `format` key): all
  // of them formats the core's encoder writes.
  std::string format() const override { return settings_.format; }
  std::vector<std::string> columns() const override { return settings_.columns; }
  bool ready() const override;
  std::uint64_t maxPayloadBytes() const override { return kMaxRequestBody; }

  std::size_t inFlightForTest() const { return sends_.size(); }
  const kusto::RequestIdentity& identityForTest() const { return identity_; }

 private:
  struct Send {
    Payload payload;
    std::function<void(SendOutcome)> done;
    bool auth_retried = false;          // a 401 already caused one refresh and retry
    HttpClient::RequestId request = 0;  // 0 while waiting for a token
  };

  void attempt(std::uint64_t id);
  void request(std::uint64_t id, const std::string& token);
  void onResponse(std::uint64_t id, const std::string& token, HttpResponse response);
  void finish(std::uint64_t id, SendOutcome outcome);

  Settings settings_;
  PluginContext& ctx_;
  std::string component_;
  std::string url_;
  kusto::RequestIdentity identity_;
  kusto::ClassifyContext classify_;
  std::unique_ptr<HttpClient> http_;  // declared before provider_: outlives it
  std::unique_ptr<kusto::TokenProvider> provider_;
  std::unordered_map<std::uint64_t, Send> sends_;
  std::uint64_t next_send_ = 1;
  bool in_send_ = false;  // completions found inside send() are deferred
  bool stopped_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace ingestd::outputs
