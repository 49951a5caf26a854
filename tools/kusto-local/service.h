// kusto-local's HTTP service: routes requests to the Engine, the token endpoints and the
// control endpoints (faults, stats), and adds what every response needs (request and activity
// ids, OneApi error bodies, auth, fault injection, --discard mode).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth.h"
#include "engine.h"
#include "faults.h"
#include "http_server.h"
#include "stats.h"

namespace kusto_local {

struct ServiceOptions {
  bool discard = false;                  // count ingest requests, store nothing
  std::uint64_t default_fault_seed = 0;  // seed used when POST /kusto-local/faults has none
  std::size_t max_ingest_raw_bytes = std::size_t{4} * 1024 * 1024;  // same value as EngineOptions
  std::string base_url;  // "http://127.0.0.1:port"; used when a request has no Host header
};

// Handles requests on connection threads, concurrently. The engine, auth and faults objects
// must outlive it.
class Service : public HttpHandler {
 public:
  Service(Engine& engine, Auth& auth, Faults& faults, ServiceOptions options);

  // Sets the base URL once the listening port is known (before the server starts).
  void setBaseUrl(std::string url) { options_.base_url = std::move(url); }
  // Wakes handlers waiting out injected latency so the server can stop promptly.
  void stop();

  // HttpHandler
  void handle(HttpRequest& request, HttpResponse& response) override;
  bool beforeContinue(const HttpRequest& head, HttpResponse& response) override;
  void handleParseError(int status, const std::string& message, const HttpRequest& partial,
                        HttpResponse& response) override;

  nlohmann::json statsJson() const;

 private:
  struct Call;  // per-request context (ids, parsed path and query)

  void route(Call& call);
  void ingest(Call& call);
  void ingestBody(Call& call, const std::string& db, const std::string& table,
                  const std::string& format, const std::string& mapping, FaultAction fault);
  void kustoJson(Call& call, std::string_view kind);
  void authMetadata(Call& call);
  void openIdConfiguration(Call& call, const std::string& tenant);
  void instanceDiscovery(Call& call);
  void faultsEndpoint(Call& call);
  void tokenReply(Call& call, const TokenReply& reply);

  // Fills the response with a JSON body; error bodies get their @context filled.
  void sendJson(Call& call, int status, nlohmann::json body);
  void sendError(Call& call, int status, std::string_view code, std::string_view message,
                 std::string_view type, bool permanent);
  void sendNotFound(Call& call);
  void sendMethodNotAllowed(Call& call, std::string_view allow);
  bool authorized(Call& call);
  std::string baseUrl(const HttpRequest& request) const;
  // Sleeps for the injected latency; returns early when stop() is called.
  void waitLatency(int latency_ms);

  Engine& engine_;
  Auth& auth_;
  Faults& faults_;
  ServiceOptions options_;
  Stats stats_;
  std::mutex stop_mu_;  // guards stopping_ for stop_cv_
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

}  // namespace kusto_local
