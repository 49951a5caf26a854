// v1/v2 response builders and the OneApi error object (see spec sections 3.2, 4.2, 4.3).
#include "responses.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <random>

#include <fmt/format.h>

namespace kusto_local {
namespace {

std::string hostName() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) {
    return "localhost";
  }
  return std::string(buf.data());
}

nlohmann::json visualizationProperties() {
  return {{"Visualization", nullptr},
          {"Title", nullptr},
          {"XColumn", nullptr},
          {"Series", nullptr},
          {"YColumns", nullptr},
          {"AnomalyColumns", nullptr},
          {"XTitle", nullptr},
          {"YTitle", nullptr},
          {"XAxis", nullptr},
          {"YAxis", nullptr},
          {"Legend", nullptr},
          {"YSplit", nullptr},
          {"Accumulate", false},
          {"IsQuerySorted", false},
          {"Kind", nullptr},
          {"Ymin", "NaN"},
          {"Ymax", "NaN"},
          {"Xmin", nullptr},
          {"Xmax", nullptr}};
}

nlohmann::json v2Columns(const std::vector<ColumnSpec>& columns) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : columns) {
    out.push_back({{"ColumnName", c.name}, {"ColumnType", cslTypeName(c.type)}});
  }
  return out;
}

nlohmann::json v2DataTable(int id, std::string_view kind, std::string_view name,
                           const std::vector<ColumnSpec>& columns, nlohmann::json rows) {
  return {{"FrameType", "DataTable"},
          {"TableId", id},
          {"TableKind", kind},
          {"TableName", name},
          {"Columns", v2Columns(columns)},
          {"Rows", std::move(rows)}};
}

}  // namespace

std::string newGuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t hi = rng();
  std::uint64_t lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  std::string hex = fmt::format("{:016x}{:016x}", hi, lo);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string nowDateTime() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ticks = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() / 100;
  return formatDateTime(ticks);
}

std::string_view genericErrorMessage(int http_status) {
  switch (http_status) {
    case 400: return "Request is invalid and cannot be executed.";
    case 401: return "Unauthorized.";
    case 403: return "Principal is not authorized to perform this operation.";
    case 404: return "The requested entity was not found.";
    case 408: return "Request timed out.";
    case 409: return "The request conflicts with the current state of the service.";
    case 413: return "Request payload exceeded limits.";
    case 429: return "The request was denied due to throttling.";
    case 500: return "An internal error occurred.";
    case 502: return "Bad gateway.";
    case 503: return "Service is unavailable.";
    case 504: return "Request timed out.";
    default: return "Request failed.";
  }
}

nlohmann::json makeOneApiError(int http_status, std::string_view code, std::string_view message,
                               std::string_view type, bool permanent) {
  static const std::string machine = hostName();
  nlohmann::json context = {
      {"timestamp", nowDateTime()},
      {"serviceAlias", "KUSTO-LOCAL"},
      {"machineName", machine},
      {"processName", "kusto-local"},
      {"processId", static_cast<std::int64_t>(getpid())},
      {"threadId", static_cast<std::int64_t>(gettid())},
      {"appDomainName", "kusto-local"},
      {"clientRequestId", ""},
      {"activityId", ""},
      {"subActivityId", ""},
      {"activityType", "KL.RestApi.Execute"},
      {"parentActivityId", ""},
      {"activityStack", ""},
  };
  nlohmann::json error = {
      {"code", code},
      {"message", genericErrorMessage(http_status)},
      {"@type", type},
      {"@message", sanitizeUtf8(message)},
      {"@context", std::move(context)},
      {"@permanent", permanent},
      {"@failureCode", http_status},
  };
  return {{"error", std::move(error)}};
}

EngineResult errorResult(int http_status, std::string_view code, std::string_view message,
                         std::string_view type, bool permanent) {
  return EngineResult{http_status, makeOneApiError(http_status, code, message, type, permanent)};
}

void addErrorContext(nlohmann::json& body, std::string_view client_request_id,
                     std::string_view activity_id) {
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) {
    return;
  }
  auto& context = body["error"]["@context"];
  if (!context.is_object()) {
    context = nlohmann::json::object();
  }
  context["timestamp"] = nowDateTime();
  context["clientRequestId"] = sanitizeUtf8(client_request_id);
  context["activityId"] = activity_id;
  context["subActivityId"] = activity_id;
  context["parentActivityId"] = activity_id;
  context["activityStack"] =
      sanitizeUtf8(fmt::format("(Activity stack: CRID={} ARID={} > KL.RestApi.Execute/{})",
                               client_request_id, activity_id, activity_id));
}

std::string serializeV2Frames(const nlohmann::json& frames) {
  if (!frames.is_array()) {
    return frames.dump();
  }
  static const std::array<std::string, 14> kOrder = {
      "FrameType", "IsProgressive", "Version",   "IsFragmented", "ErrorReportingPlacement",
      "TableId",   "TableKind",     "TableName", "Columns",      "Rows",
      "RowCount",  "HasErrors",     "Cancelled", "OneApiErrors"};
  std::string out = "[";
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto& frame = frames[i];
    if (i > 0) {
      out += "\n,";
    }
    if (!frame.is_object()) {
      out += frame.dump();
      continue;
    }
    out += '{';
    bool first = true;
    auto emit = [&](const std::string& key, const nlohmann::json& value) {
      out += first ? "" : ",";
      first = false;
      constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
      out += nlohmann::json(key).dump(-1, ' ', false, kReplace);
      out += ':';
      out += value.dump(-1, ' ', false, kReplace);
    };
    for (const auto& key : kOrder) {
      if (auto it = frame.find(key); it != frame.end()) {
        emit(key, *it);
      }
    }
    for (auto it = frame.begin(); it != frame.end(); ++it) {
      if (std::find(kOrder.begin(), kOrder.end(), it.key()) == kOrder.end()) {
        emit(it.key(), it.value());
      }
    }
    out += '}';
  }
  out += "\n]";
  return out;
}

nlohmann::json v1Table(std::string_view table_name, const std::vector<ColumnSpec>& columns,
                       nlohmann::json rows) {
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : columns) {
    cols.push_back({{"ColumnName", c.name},
                    {"DataType", v1DataTypeName(c.type)},
                    {"ColumnType", cslTypeName(c.type)}});
  }
  return {{"TableName", table_name}, {"Columns", std::move(cols)}, {"Rows", std::move(rows)}};
}

nlohmann::json v1SingleTable(const std::vector<ColumnSpec>& columns, nlohmann::json rows) {
  return {{"Tables", nlohmann::json::array({v1Table("Table_0", columns, std::move(rows))})}};
}

nlohmann::json v1QueryDataset(const std::vector<ColumnSpec>& columns, nlohmann::json rows) {
  using CT = ColumnType;
  nlohmann::json tables = nlohmann::json::array();
  tables.push_back(v1Table("Table_0", columns, std::move(rows)));
  nlohmann::json properties_row = nlohmann::json::array({visualizationProperties().dump()});
  tables.push_back(v1Table("Table_1", {{"Value", CT::kString}},
                           nlohmann::json::array({std::move(properties_row)})));
  std::string activity = newGuid();
  nlohmann::json status_row = {
      nowDateTime(), 4,        "Info",   0, "Query completed successfully", 1,
      newGuid(),     activity, activity, ""};
  tables.push_back(v1Table("Table_2",
                           {{"Timestamp", CT::kDateTime},
                            {"Severity", CT::kInt},
                            {"SeverityName", CT::kString},
                            {"StatusCode", CT::kInt},
                            {"StatusDescription", CT::kString},
                            {"Count", CT::kInt},
                            {"RequestId", CT::kGuid},
                            {"ActivityId", CT::kGuid},
                            {"SubActivityId", CT::kGuid},
                            {"ClientActivityId", CT::kString}},
                           nlohmann::json::array({status_row})));
  nlohmann::json toc = nlohmann::json::array({
      {0, "QueryResult", "PrimaryResult", newGuid(), ""},
      {1, "QueryProperties", "@ExtendedProperties", newGuid(), ""},
      {2, "QueryStatus", "QueryStatus", "00000000-0000-0000-0000-000000000000", ""},
  });
  tables.push_back(v1Table("Table_3",
                           {{"Ordinal", CT::kLong},
                            {"Kind", CT::kString},
                            {"Name", CT::kString},
                            {"Id", CT::kString},
                            {"PrettyName", CT::kString}},
                           std::move(toc)));
  return {{"Tables", std::move(tables)}};
}

nlohmann::json v2QueryFrames(const std::vector<ColumnSpec>& columns, nlohmann::json rows) {
  using CT = ColumnType;
  nlohmann::json frames = nlohmann::json::array();
  frames.push_back({{"FrameType", "DataSetHeader"},
                    {"IsProgressive", false},
                    {"Version", "v2.0"},
                    {"IsFragmented", false},
                    {"ErrorReportingPlacement", "EndOfTable"}});
  frames.push_back(
      v2DataTable(0, "QueryProperties", "@ExtendedProperties",
                  {{"TableId", CT::kInt}, {"Key", CT::kString}, {"Value", CT::kDynamic}},
                  nlohmann::json::array({{1, "Visualization", visualizationProperties().dump()}})));
  frames.push_back(v2DataTable(1, "PrimaryResult", "PrimaryResult", columns, std::move(rows)));
  std::string activity = newGuid();
  nlohmann::json info_row = {
      nowDateTime(), "", activity,    activity,
      activity,      4,  "Info",      0,
      "S_OK (0)",    4,  "QueryInfo", R"({"Count":1,"Text":"Query completed successfully"})"};
  frames.push_back(v2DataTable(2, "QueryCompletionInformation", "QueryCompletionInformation",
                               {{"Timestamp", CT::kDateTime},
                                {"ClientRequestId", CT::kString},
                                {"ActivityId", CT::kGuid},
                                {"SubActivityId", CT::kGuid},
                                {"ParentActivityId", CT::kGuid},
                                {"Level", CT::kInt},
                                {"LevelName", CT::kString},
                                {"StatusCode", CT::kInt},
                                {"StatusCodeName", CT::kString},
                                {"EventType", CT::kInt},
                                {"EventTypeName", CT::kString},
                                {"Payload", CT::kString}},
                               nlohmann::json::array({info_row})));
  frames.push_back(
      {{"FrameType", "DataSetCompletion"}, {"HasErrors", false}, {"Cancelled", false}});
  return frames;
}

nlohmann::json ingestSuccessBody(std::uint64_t records) {
  using CT = ColumnType;
  return v1SingleTable({{"ConsumedRecordsCount", CT::kLong},
                        {"UpdatePolicyStatus", CT::kString},
                        {"UpdatePolicyFailureCode", CT::kString},
                        {"UpdatePolicyFailureReason", CT::kString}},
                       nlohmann::json::array({{records, "Inactive", "Unknown", nullptr}}));
}

}  // namespace kusto_local
