// Helpers for the kusto-local engine unit tests: run commands and queries, read v1 results.
#pragma once

#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "tools/kusto-local/engine.h"

namespace kusto_local::test {

// Runs a control command that must succeed; returns the first v1 table.
inline nlohmann::json mgmtOk(Engine& engine, std::string_view db, std::string_view csl) {
  EngineResult r = engine.mgmt(db, csl);
  INFO(csl, " -> ", r.body.dump());
  REQUIRE(r.status == 200);
  return r.body["Tables"][0];
}

// Rows of the primary result of a v1 query that must succeed.
inline nlohmann::json queryRows(Engine& engine, std::string_view db, std::string_view csl) {
  EngineResult r = engine.query(db, csl, false);
  INFO(csl, " -> ", r.body.dump());
  REQUIRE(r.status == 200);
  return r.body["Tables"][0]["Rows"];
}

inline std::int64_t count(Engine& engine, std::string_view db, std::string_view table) {
  return queryRows(engine, db, std::string(table) + " | count")[0][0].get<std::int64_t>();
}

// An engine with database "db", table T(a:string, b:long, c:datetime, d:dynamic) and the
// streaming policy enabled on the database.
inline void setUp(Engine& engine) {
  engine.ensureDatabase("db");
  mgmtOk(engine, "db", ".create table T (a:string, b:long, c:datetime, d:dynamic)");
  mgmtOk(engine, "db", ".alter database db policy streamingingestion enable");
}

inline EngineResult ingest(Engine& engine, std::string_view table, std::string_view format,
                           std::string_view data, std::string_view mapping = "") {
  IngestRequest request;
  request.database = "db";
  request.table = std::string(table);
  request.format = std::string(format);
  request.mapping_name = std::string(mapping);
  request.data = data;
  return engine.ingest(request);
}

inline void checkError(const EngineResult& r, int status, std::string_view code,
                       bool permanent = true) {
  INFO(r.body.dump());
  CHECK(r.status == status);
  CHECK(r.body["error"]["code"] == code);
  CHECK(r.body["error"]["@permanent"] == permanent);
  CHECK(r.body["error"]["@failureCode"] == status);
  CHECK(r.body["error"]["message"].is_string());
  CHECK(r.body["error"]["@message"].is_string());
  CHECK(r.body["error"]["@type"].is_string());
}

}  // namespace kusto_local::test
