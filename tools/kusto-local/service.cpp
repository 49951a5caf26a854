// kusto-local request routing and everything around the engine calls (see service.h).
#include "service.h"

#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "gzip_body.h"
#include "record_count.h"
#include "url.h"

namespace kusto_local {
namespace {

constexpr std::string_view kJsonType = "application/json; charset=utf-8";
constexpr std::string_view kBadRequestType = "Kusto.Data.Exceptions.KustoBadRequestException";
constexpr std::string_view kStreamingType =
    "Kusto.DataNode.Exceptions.StreamingIngestionRequestException";
// Kusto's first-party client application id, which the SDKs expect in the auth metadata.
constexpr std::string_view kKustoClientAppId = "db662dc1-0cfe-4e1c-a843-19a68e65be58";
constexpr std::string_view kFirstPartyTenant = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

// The v1 one-table body of a successful streaming ingest (spec 3.1), built without a JSON
// library because --discard answers hundreds of these per second.
std::string ingestSuccessBody(std::uint64_t records) {
  return fmt::format(
      R"({{"Tables":[{{"TableName":"Table_0","Columns":[)"
      R"({{"ColumnName":"ConsumedRecordsCount","DataType":"Int64","ColumnType":"long"}},)"
      R"({{"ColumnName":"UpdatePolicyStatus","DataType":"String","ColumnType":"string"}},)"
      R"({{"ColumnName":"UpdatePolicyFailureCode","DataType":"String","ColumnType":"string"}},)"
      R"({{"ColumnName":"UpdatePolicyFailureReason","DataType":"String","ColumnType":"string"}}],)"
      R"("Rows":[[{},"Inactive","Unknown",null]]}}]}})",
      records);
}

// ConsumedRecordsCount from the engine's v1 ingest body, 0 when the shape is unexpected.
std::uint64_t consumedRecords(const nlohmann::json& body) {
  try {
    const auto& v = body.at("Tables").at(0).at("Rows").at(0).at(0);
    return v.is_number_unsigned() || v.is_number_integer() ? v.get<std::uint64_t>() : 0;
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
}

bool isError(const nlohmann::json& body) {
  return body.is_object() && body.contains("error") && body["error"].is_object();
}

}  // namespace

struct Service::Call {
  const HttpRequest& request;
  HttpResponse& response;
  std::string activity_id;
  const std::string* client_request_id = nullptr;
  std::vector<std::string> segments;         // decoded path segments
  std::map<std::string, std::string> query;  // decoded query parameters
};

Service::Service(Engine& engine, Auth& auth, Faults& faults, ServiceOptions options)
    : engine_(engine), auth_(auth), faults_(faults), options_(std::move(options)) {}

void Service::stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
}

void Service::waitLatency(int latency_ms) {
  if (latency_ms <= 0) {
    return;
  }
  std::unique_lock<std::mutex> lock(stop_mu_);
  stop_cv_.wait_for(lock, std::chrono::milliseconds(latency_ms), [this] { return stopping_; });
}

void Service::handle(HttpRequest& request, HttpResponse& response) {
  Call call{request, response, randomGuid()};
  call.client_request_id = request.header("x-ms-client-request-id");
  response.setHeader("x-ms-activity-id", call.activity_id);
  if (call.client_request_id != nullptr) {
    response.setHeader("x-ms-client-request-id", *call.client_request_id);
  }
  auto segments = splitPath(request.path);
  auto query = parseQuery(request.query);
  if (!segments || !query) {
    sendError(call, 400, "General_BadRequest", "Malformed percent-encoding in the request URL.",
              kBadRequestType, true);
  } else {
    call.segments = std::move(*segments);
    call.query = std::move(*query);
    try {
      route(call);
    } catch (const std::exception& e) {
      // Engine or JSON library failures must not take the connection thread down.
      response.headers.resize(call.client_request_id != nullptr ? 2 : 1);
      sendError(call, 500, "General_InternalServerError",
                fmt::format("kusto-local internal error: {}", e.what()),
                "Kusto.Common.Svc.Exceptions.KustoServiceException", false);
    }
  }
  if (!response.drop) {
    stats_.countStatus(response.status);
  }
}

void Service::handleParseError(int status, const std::string& message, const HttpRequest& partial,
                               HttpResponse& response) {
  Call call{partial, response, randomGuid()};
  call.client_request_id = partial.header("x-ms-client-request-id");
  response.setHeader("x-ms-activity-id", call.activity_id);
  if (call.client_request_id != nullptr) {
    response.setHeader("x-ms-client-request-id", *call.client_request_id);
  }
  if (status == 413) {
    sendError(call, 413, "BadRequest_FileTooLarge",
              fmt::format("Request payload exceeded the 10 MB request cap ({} bytes "
                          "allowed per request body) (KustoRequestPayloadTooLargeException).",
                          kMaxRequestBodyBytes),
              "Kusto.Data.Exceptions.KustoRequestPayloadTooLargeException", true);
  } else {
    sendError(call, status, "General_BadRequest", fmt::format("Bad HTTP request: {}.", message),
              kBadRequestType, true);
  }
  response.close = true;
  stats_.countStatus(response.status);
}

void Service::route(Call& call) {
  const auto& s = call.segments;
  const std::string& method = call.request.method;
  bool get = method == "GET" || method == "HEAD";
  bool post = method == "POST";
  auto is = [&](std::initializer_list<std::string_view> want) {
    if (s.size() != want.size()) {
      return false;
    }
    std::size_t i = 0;
    for (std::string_view w : want) {
      if (s[i++] != w) {
        return false;
      }
    }
    return true;
  };

  if (s.size() >= 3 && s[0] == "v1" && s[1] == "rest" && s[2] == "ingest") {
    return post ? ingest(call) : sendMethodNotAllowed(call, "POST");
  }
  if (is({"v1", "rest", "mgmt"}) || is({"v1", "rest", "query"}) || is({"v2", "rest", "query"})) {
    if (!get && !post) {
      return sendMethodNotAllowed(call, "GET, POST");
    }
    return kustoJson(call, s[0] == "v2" ? "v2" : s[2]);
  }
  if (is({"v1", "rest", "auth", "metadata"})) {
    return get ? authMetadata(call) : sendMethodNotAllowed(call, "GET");
  }
  if (is({"healthz"})) {
    if (!get) {
      return sendMethodNotAllowed(call, "GET");
    }
    call.response.status = 200;
    call.response.setHeader("Content-Type", "text/plain; charset=utf-8");
    call.response.body = "ok";
    return;
  }
  if (is({"kusto-local", "stats"})) {
    return get ? sendJson(call, 200, statsJson()) : sendMethodNotAllowed(call, "GET");
  }
  if (is({"kusto-local", "faults"})) {
    return (get || post) ? faultsEndpoint(call) : sendMethodNotAllowed(call, "GET, POST");
  }
  if (is({"metadata", "identity", "oauth2", "token"})) {
    return get ? tokenReply(call, auth_.imds(call.query, call.request.header("metadata")))
               : sendMethodNotAllowed(call, "GET");
  }
  if (is({"msi", "token"})) {
    return get ? tokenReply(call,
                            auth_.appService(call.query, call.request.header("x-identity-header")))
               : sendMethodNotAllowed(call, "GET");
  }
  if (is({"common", "discovery", "instance"})) {
    return get ? instanceDiscovery(call) : sendMethodNotAllowed(call, "GET");
  }
  if (s.size() == 4 && s[1] == "oauth2" && s[2] == "v2.0" && s[3] == "token") {
    return post ? tokenReply(call, auth_.tokenV2(s[0], call.request.body))
                : sendMethodNotAllowed(call, "POST");
  }
  if (s.size() == 3 && s[1] == "oauth2" && s[2] == "token") {
    return post ? tokenReply(call, auth_.tokenV1(s[0], call.request.body))
                : sendMethodNotAllowed(call, "POST");
  }
  if (s.size() == 4 && s[1] == "v2.0" && s[2] == ".well-known" && s[3] == "openid-configuration") {
    return get ? openIdConfiguration(call, s[0]) : sendMethodNotAllowed(call, "GET");
  }
  sendNotFound(call);
}

bool Service::beforeContinue(const HttpRequest& head, HttpResponse& response) {
  // Refuse an unauthenticated upload before the client sends its body, as the service does.
  auto segments = splitPath(head.path);
  const bool protected_route =
      segments && segments->size() >= 3 && ((*segments)[0] == "v1" || (*segments)[0] == "v2") &&
      (*segments)[1] == "rest" &&
      ((*segments)[2] == "ingest" || (*segments)[2] == "mgmt" || (*segments)[2] == "query");
  if (!protected_route || !auth_.required() || auth_.checkBearer(head.header("authorization"))) {
    return true;
  }
  response.setHeader("x-ms-activity-id", randomGuid());
  if (const std::string* id = head.header("x-ms-client-request-id"); id != nullptr) {
    response.setHeader("x-ms-client-request-id", *id);
  }
  response.status = 401;
  response.setHeader("WWW-Authenticate",
                     fmt::format("Bearer authorization_uri=\"{}\"", baseUrl(head)));
  stats_.countStatus(401);
  return false;
}

bool Service::authorized(Call& call) {
  if (!auth_.required() || auth_.checkBearer(call.request.header("authorization"))) {
    return true;
  }
  // Kusto answers 401 with an empty body (spec 3.2).
  call.response.status = 401;
  call.response.setHeader("WWW-Authenticate",
                          fmt::format("Bearer authorization_uri=\"{}\"", baseUrl(call.request)));
  call.response.body.clear();
  return false;
}

void Service::ingest(Call& call) {
  if (!authorized(call)) {
    return;
  }
  const auto& s = call.segments;
  if (s.size() != 5) {
    return sendError(call, 400, "General_BadRequest",
                     "The ingest URL must be /v1/rest/ingest/{database}/{table}.", kBadRequestType,
                     true);
  }
  const std::string* format = findParam(call.query, "streamFormat");
  if (format == nullptr || format->empty()) {
    return sendError(call, 400, "General_BadRequest",
                     "The 'streamFormat' query parameter is required for streaming ingestion.",
                     kStreamingType, true);
  }
  if (const std::string* kind = findParam(call.query, "sourceKind"); kind != nullptr) {
    return sendError(call, 400, "General_BadRequest",
                     "Streaming from a blob (sourceKind=uri) is not supported by kusto-local.",
                     kStreamingType, true);
  }
  const std::string* mapping = findParam(call.query, "mappingName");
  const std::string& db = s[3];
  const std::string& table = s[4];

  FaultAction fault = faults_.decide(db, table);
  waitLatency(faults_.settings().latency_ms);
  if (fault != FaultAction::kNone) {
    stats_.countFault(fault);
  }
  switch (fault) {
    case FaultAction::kThrottle: {
      int retry_after = faults_.settings().retry_after_seconds;
      if (retry_after >= 0) {
        call.response.setHeader("Retry-After", std::to_string(retry_after));
      }
      return sendError(call, 429, "Throttling",
                       "The request was throttled (kusto-local injected fault).",
                       "Kusto.DataNode.Exceptions.ThrottlingException", false);
    }
    case FaultAction::kError500:
      return sendError(call, 500, "General_InternalServerError",
                       "Internal server error (kusto-local injected fault).",
                       "Kusto.Common.Svc.Exceptions.KustoServiceException", false);
    case FaultAction::kError503:
      return sendError(call, 503, "ServiceUnavailable",
                       "The service is temporarily unavailable (kusto-local injected fault).",
                       "Kusto.Common.Svc.Exceptions.ServiceUnavailableException", false);
    case FaultAction::kDropBeforeStore: call.response.drop = true; return;
    case FaultAction::kFailTable:
      return sendError(call, 400, "BadRequest_InjectedPermanentFailure",
                       fmt::format("Ingestion into '{}.{}' fails permanently (kusto-local "
                                   "injected fault).",
                                   db, table),
                       kStreamingType, true);
    case FaultAction::kNone:
    case FaultAction::kDropAfterStore: break;
  }
  ingestBody(call, db, table, *format, mapping ? *mapping : std::string(), fault);
}

void Service::ingestBody(Call& call, const std::string& db, const std::string& table,
                         const std::string& format, const std::string& mapping, FaultAction fault) {
  // One inflater per connection thread: its buffers are reused by every request.
  thread_local GzipInflater inflater;
  const std::string& body = call.request.body;
  std::string_view data = body;
  if (looksLikeGzip(body)) {
    InflateStatus st = inflater.inflate(body, options_.max_ingest_raw_bytes);
    if (st == InflateStatus::kTooLarge) {
      return sendError(call, 413, "Stream_InputStreamTooLarge",
                       fmt::format("The decompressed data exceeds the streaming ingestion "
                                   "limit of {} bytes (KustoRequestPayloadTooLargeException).",
                                   options_.max_ingest_raw_bytes),
                       kStreamingType, true);
    }
    if (st == InflateStatus::kMalformed) {
      return sendError(call, 400, "BadRequest_InvalidBlob",
                       "The request body starts with the gzip magic bytes but is not valid "
                       "gzip data.",
                       kStreamingType, true);
    }
    data = inflater.output();
  } else if (data.size() > options_.max_ingest_raw_bytes) {
    return sendError(call, 413, "Stream_InputStreamTooLarge",
                     fmt::format("The data exceeds the streaming ingestion limit of {} bytes "
                                 "(KustoRequestPayloadTooLargeException).",
                                 options_.max_ingest_raw_bytes),
                     kStreamingType, true);
  }

  if (options_.discard) {
    if (data.empty()) {
      return sendError(call, 400, "Stream_NoDataToIngest",
                       "The input stream contains no records to ingest", kStreamingType, true);
    }
    std::uint64_t records = countRecordsForDiscard(format, data);
    stats_.countIngest(body.size(), data.size(), records);
    stats_.countDiscardTable(db, table, data.size(), records);
    if (fault == FaultAction::kDropAfterStore) {
      call.response.drop = true;
      return;
    }
    call.response.status = 200;
    call.response.setHeader("Content-Type", std::string(kJsonType));
    call.response.body = ingestSuccessBody(records);
    return;
  }

  IngestRequest request{db, table, format, mapping, data};
  EngineResult result = engine_.ingest(request);
  if (result.status == 200) {
    stats_.countIngest(body.size(), data.size(), consumedRecords(result.body));
  }
  if (fault == FaultAction::kDropAfterStore) {
    call.response.drop = true;
    return;
  }
  sendJson(call, result.status, std::move(result.body));
}

void Service::kustoJson(Call& call, std::string_view kind) {
  if (!authorized(call)) {
    return;
  }
  std::string db;
  std::string csl;
  if (call.request.method == "POST") {
    std::string_view text = call.request.body;
    thread_local GzipInflater inflater;
    if (looksLikeGzip(text)) {
      if (inflater.inflate(text, kMaxRequestBodyBytes * 4) != InflateStatus::kOk) {
        return sendError(call, 400, "General_BadRequest",
                         "The request body is not valid gzip data.", kBadRequestType, true);
      }
      text = inflater.output();
    }
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return sendError(call, 400, "General_BadRequest",
                       "The request body must be a JSON object {\"db\", \"csl\", "
                       "\"properties\"}.",
                       kBadRequestType, true);
    }
    if (auto it = j.find("db"); it != j.end() && it->is_string()) {
      db = it->get<std::string>();
    }
    auto csl_it = j.find("csl");
    if (csl_it == j.end() || !csl_it->is_string()) {
      return sendError(call, 400, "General_BadRequest", "The request body has no \"csl\" string.",
                       kBadRequestType, true);
    }
    csl = csl_it->get<std::string>();
    // "properties" may be a JSON string or an object (spec 4.1); kusto-local reads no
    // request property, so both are accepted and ignored.
    if (auto p = j.find("properties");
        p != j.end() && !p->is_string() && !p->is_object() && !p->is_null()) {
      return sendError(call, 400, "General_BadRequest",
                       "\"properties\" must be a JSON string or object.", kBadRequestType, true);
    }
  } else {
    const std::string* d = findParam(call.query, "db");
    const std::string* c = findParam(call.query, "csl");
    if (c == nullptr) {
      return sendError(call, 400, "General_BadRequest", "The 'csl' query parameter is required.",
                       kBadRequestType, true);
    }
    db = d ? *d : std::string();
    csl = *c;
  }
  EngineResult result =
      kind == "mgmt" ? engine_.mgmt(db, csl) : engine_.query(db, csl, /*v2=*/kind == "v2");
  if (kind == "v2" && result.status == 200 && result.body.is_array()) {
    // Frames one per line with FrameType first: the Go SDK reads them line by line.
    call.response.status = 200;
    call.response.setHeader("Content-Type", std::string(kJsonType));
    call.response.body = serializeV2Frames(result.body);
    return;
  }
  sendJson(call, result.status, std::move(result.body));
}

std::string Service::baseUrl(const HttpRequest& request) const {
  if (const std::string* host = request.header("host"); host != nullptr && !host->empty()) {
    return "http://" + *host;
  }
  return options_.base_url;
}

void Service::authMetadata(Call& call) {
  std::string base = baseUrl(call.request);
  nlohmann::json body = {
      {"AzureAD",
       {{"LoginEndpoint", base},
        {"LoginMfaRequired", false},
        {"KustoClientAppId", kKustoClientAppId},
        {"KustoClientRedirectUri", "https://microsoft/kustoclient"},
        {"KustoServiceResourceId", base},
        {"FirstPartyAuthorityUrl", fmt::format("{}/{}", base, kFirstPartyTenant)}}},
      {"dSTS",
       {{"CloudEndpointSuffix", "windows.net"},
        {"DstsRealm", "realm://dsts.core.windows.net"},
        {"DstsInstance", "prod-dsts.dsts.core.windows.net"},
        {"KustoDnsHostName",
         call.request.header("host") ? *call.request.header("host") : std::string("localhost")},
        {"ServiceName", "kusto"}}}};
  sendJson(call, 200, std::move(body));
}

void Service::openIdConfiguration(Call& call, const std::string& tenant) {
  std::string base = baseUrl(call.request);
  std::string root = fmt::format("{}/{}", base, tenant);
  nlohmann::json body = {
      {"issuer", root + "/v2.0"},
      {"token_endpoint", root + "/oauth2/v2.0/token"},
      {"authorization_endpoint", root + "/oauth2/v2.0/authorize"},
      {"device_authorization_endpoint", root + "/oauth2/v2.0/devicecode"},
      {"jwks_uri", root + "/discovery/v2.0/keys"},
      {"response_types_supported", {"code", "id_token", "code id_token", "id_token token"}},
      {"subject_types_supported", {"pairwise"}},
      {"id_token_signing_alg_values_supported", {"RS256"}},
      {"token_endpoint_auth_methods_supported", {"client_secret_post", "private_key_jwt"}},
      {"scopes_supported", {"openid", "profile", "email", "offline_access"}},
      {"tenant_region_scope", nullptr},
      {"cloud_instance_name", "kusto-local"}};
  sendJson(call, 200, std::move(body));
}

void Service::instanceDiscovery(Call& call) {
  std::string base = baseUrl(call.request);
  std::string host = call.request.header("host") ? *call.request.header("host") : "localhost";
  nlohmann::json body = {
      {"tenant_discovery_endpoint",
       fmt::format("{}/common/v2.0/.well-known/openid-configuration", base)},
      {"api-version", "1.1"},
      {"metadata",
       {{{"preferred_network", host}, {"preferred_cache", host}, {"aliases", {host}}}}}};
  sendJson(call, 200, std::move(body));
}

void Service::tokenReply(Call& call, const TokenReply& reply) {
  call.response.status = reply.status;
  call.response.setHeader("Content-Type", std::string(kJsonType));
  call.response.setHeader("Cache-Control", "no-store, no-cache");
  // Client ids and resources come from the request and may be invalid UTF-8.
  call.response.body = reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Service::faultsEndpoint(Call& call) {
  if (call.request.method == "POST") {
    nlohmann::json j = call.request.body.empty()
                           ? nlohmann::json::object()
                           : nlohmann::json::parse(call.request.body, nullptr, false);
    FaultSettings settings;
    std::string error;
    if (j.is_discarded()) {
      error = "the body is not valid JSON";
    } else {
      FaultSettings::fromJson(j, options_.default_fault_seed, settings, error);
    }
    if (!error.empty()) {
      return sendError(call, 400, "General_BadRequest",
                       fmt::format("Bad fault settings: {}.", error), kBadRequestType, true);
    }
    faults_.configure(std::move(settings));
  }
  sendJson(call, 200, faults_.settings().toJson());
}

nlohmann::json Service::statsJson() const {
  nlohmann::json j =
      stats_.toJson(options_.discard ? std::map<std::string, TableStats>{} : engine_.tableStats());
  std::uint64_t total = 0;
  nlohmann::json by_endpoint = nlohmann::json::object();
  for (const auto& [endpoint, n] : auth_.tokensIssued()) {
    by_endpoint[endpoint] = n;
    total += n;
  }
  j["tokens_issued"] = total;
  j["tokens_issued_by_endpoint"] = std::move(by_endpoint);
  j["mode"] = options_.discard ? "discard" : "store";
  return j;
}

void Service::sendJson(Call& call, int status, nlohmann::json body) {
  if (isError(body)) {
    addErrorContext(body, call.client_request_id ? *call.client_request_id : std::string(),
                    call.activity_id);
  }
  call.response.status = status;
  call.response.setHeader("Content-Type", std::string(kJsonType));
  call.response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Service::sendError(Call& call, int status, std::string_view code, std::string_view message,
                        std::string_view type, bool permanent) {
  sendJson(call, status, makeOneApiError(status, code, message, type, permanent));
}

void Service::sendNotFound(Call& call) {
  sendError(call, 404, "NotFound",
            fmt::format("kusto-local has no endpoint {} {}.", call.request.method,
                        call.request.path),
            kBadRequestType, true);
}

void Service::sendMethodNotAllowed(Call& call, std::string_view allow) {
  call.response.setHeader("Allow", std::string(allow));
  sendError(call, 405, "General_BadRequest",
            fmt::format("Method {} is not allowed on {}.", call.request.method, call.request.path),
            kBadRequestType, true);
}

}  // namespace kusto_local
