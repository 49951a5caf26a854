// KustoLocal: runs the kusto-local binary as a child process on 127.0.0.1 (port chosen by the
// OS) and talks to it the way a user of a cluster would: control commands, queries, streaming
// ingest, plus its test endpoints (faults, stats). Used by kusto-local's and ingestd's e2e tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/http_client.h"
#include "tests/support/process.h"

namespace ingestd::test {

class KustoLocal {
 public:
  // Spawns binPath("kusto-local") --listen 127.0.0.1:0 <extra_args> and waits for its
  // "listening on 127.0.0.1:<port>" line. Throws std::runtime_error (with its stderr) when the
  // line does not appear within `timeout`.
  static std::unique_ptr<KustoLocal> start(
      std::vector<std::string> extra_args = {},
      std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Stops the process (SIGKILL) if stop() was not called.
  ~KustoLocal();
  KustoLocal(const KustoLocal&) = delete;
  KustoLocal& operator=(const KustoLocal&) = delete;

  // "http://127.0.0.1:<port>"
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  Process& process() { return *process_; }

  // When set, every helper below sends "Authorization: Bearer <token>" (for --auth aad).
  void setBearerToken(std::string token) { token_ = std::move(token); }

  // POST /v1/rest/mgmt {"db","csl"}. mgmt() throws std::runtime_error (status and body) unless
  // the answer is 200, and returns the parsed v1 dataset.
  nlohmann::json mgmt(std::string_view db, std::string_view csl);
  HttpResponse mgmtRaw(std::string_view db, std::string_view csl,
                       const std::vector<std::string>& extra_headers = {});

  // POST /v2/rest/query (frames) or /v1/rest/query (dataset). Throws unless 200.
  nlohmann::json query(std::string_view db, std::string_view kql, bool v2 = true);
  HttpResponse queryRaw(std::string_view db, std::string_view kql, bool v2 = true,
                        const std::vector<std::string>& extra_headers = {});
  // `<table> | count` through v2.
  std::int64_t count(std::string_view db, std::string_view table);
  // The rows (JSON arrays) of the v2 PrimaryResult table of `kql`.
  std::vector<nlohmann::json> rows(std::string_view db, std::string_view kql);

  // GET /kusto-local/stats and POST /kusto-local/faults (both throw unless 200).
  nlohmann::json stats();
  void setFaults(const nlohmann::json& faults);

  // POST /v1/rest/ingest/{db}/{table}?streamFormat=<format>[&mappingName=<mapping>]. With
  // `gzip` the body is compressed here and sent with Content-Encoding: gzip.
  HttpResponse ingest(std::string_view db, std::string_view table, std::string_view format,
                      std::string_view body, std::string_view mapping = "",
                      const std::vector<std::string>& extra_headers = {}, bool gzip = false,
                      bool chunked = false);
  // The ingest URL, for tests that build their own requests.
  std::string ingestUrl(std::string_view db, std::string_view table, std::string_view format,
                        std::string_view mapping = "") const;

  // `.create table <table> <schema>` and `.alter table <table> policy streamingingestion enable`.
  // schema: "(a:string, b:long)".
  void createTableWithStreaming(std::string_view db, std::string_view table,
                                std::string_view schema);

  // SIGTERM, then waits up to `timeout`: the exit code (or -signal). Throws std::runtime_error if
  // it is still running at the deadline (it is then killed).
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  KustoLocal() = default;
  std::vector<std::string> authHeaders(const std::vector<std::string>& extra) const;
  HttpResponse postJson(const std::string& path, const nlohmann::json& body,
                        const std::vector<std::string>& extra_headers);

  std::unique_ptr<Process> process_;
  std::string url_;
  int port_ = 0;
  std::string token_;
};

// The rows of the v2 PrimaryResult table in a /v2/rest/query answer (throws if there is none).
std::vector<nlohmann::json> primaryRows(const nlohmann::json& frames);

}  // namespace ingestd::test
