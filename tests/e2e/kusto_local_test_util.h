// Helpers shared by the kusto-local e2e tests: OneApi error checks, v1 table access, small data
// builders. Header-only; included by tests/e2e/kusto_local_*.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/support/http_client.h"
#include "tests/support/kusto_local.h"

namespace ingestd::test::kl {

using nlohmann::json;

inline json parseJson(const HttpResponse& r) {
  INFO("body: " << r.body.substr(0, 1000));
  json j = json::parse(r.body, nullptr, false);
  CHECK_FALSE(j.is_discarded());
  return j;
}

// Asserts a OneApi error response: HTTP status, error.code, error.@permanent and the other
// fields every error must carry. Returns the parsed "error" object.
inline json checkOneApiError(const HttpResponse& r, long status, std::string_view code,
                             bool permanent) {
  INFO("status " << r.status << " error '" << r.error << "' body: " << r.body.substr(0, 1000));
  CHECK(r.status == status);
  const json j = json::parse(r.body, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  REQUIRE(j.contains("error"));
  const json& e = j["error"];
  CHECK(e.value("code", "") == code);
  REQUIRE(e.contains("@permanent"));
  CHECK(e["@permanent"].is_boolean());
  CHECK(e["@permanent"].get<bool>() == permanent);
  CHECK_FALSE(e.value("message", "").empty());
  CHECK_FALSE(e.value("@type", "").empty());
  CHECK_FALSE(e.value("@message", "").empty());
  CHECK(e.contains("@context"));
  CHECK(r.headers.count("x-ms-activity-id") == 1);
  return e;
}

// The v1 ingest success body: Table_0 row 0 column 0 is ConsumedRecordsCount.
inline std::int64_t consumedRecords(const HttpResponse& r) {
  INFO("status " << r.status << " error '" << r.error << "' body: " << r.body.substr(0, 1000));
  REQUIRE(r.status == 200);
  const json j = json::parse(r.body);
  const json& t = j.at("Tables").at(0);
  CHECK(t.at("Columns").at(0).at("ColumnName") == "ConsumedRecordsCount");
  return t.at("Rows").at(0).at(0).get<std::int64_t>();
}

// Index of a column in a v1 table (Tables[i]) or v2 DataTable frame; -1 if absent.
inline int columnIndex(const json& table, std::string_view name) {
  const json& cols = table.at("Columns");
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].value("ColumnName", "") == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// The values of one named column of the first table of a v1 dataset.
inline std::vector<json> v1Column(const json& dataset, std::string_view name) {
  const json& t = dataset.at("Tables").at(0);
  const int idx = columnIndex(t, name);
  INFO("column " << name << " in " << t.dump().substr(0, 1000));
  REQUIRE(idx >= 0);
  std::vector<json> out;
  for (const auto& row : t.at("Rows")) {
    out.push_back(row.at(static_cast<std::size_t>(idx)));
  }
  return out;
}

inline bool contains(const std::vector<json>& values, const json& v) {
  for (const auto& x : values) {
    if (x == v) {
      return true;
    }
  }
  return false;
}

// "name-<i>,<i>,<i%2==0>\n" lines, for tables (Name:string, Value:long, Flag:bool).
inline std::string csvRows(std::string_view prefix, int first, int n) {
  std::string out;
  for (int i = first; i < first + n; ++i) {
    out += std::string(prefix) + "-" + std::to_string(i) + "," + std::to_string(i) + "," +
           (i % 2 == 0 ? "true" : "false") + "\n";
  }
  return out;
}

inline constexpr std::string_view kSchema = "(Name:string, Value:long, Flag:bool)";

}  // namespace ingestd::test::kl
