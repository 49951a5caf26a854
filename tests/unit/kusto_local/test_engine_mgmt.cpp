// Unit tests for kusto-local control commands run through the engine: result columns, rows,
// idempotency and error bodies.
#include <doctest/doctest.h>

#include "engine_test_util.h"

using namespace kusto_local;
using namespace kusto_local::test;
using nlohmann::json;

namespace {

std::vector<std::string> columnNames(const json& table) {
  std::vector<std::string> out;
  for (const auto& c : table["Columns"]) {
    out.push_back(c["ColumnName"].get<std::string>());
  }
  return out;
}

}  // namespace

TEST_CASE("mgmt: databases") {
  Engine engine(EngineOptions{});
  json created = mgmtOk(engine, "", ".create database D volatile");
  CHECK(created["Rows"][0][0] == "D");
  CHECK(columnNames(created)[0] == "DatabaseName");
  mgmtOk(engine, "", ".create database D");  // exists: succeeds unchanged
  mgmtOk(engine, "", ".create database E persist (@'/x')");
  json shown = mgmtOk(engine, "D", ".show databases");
  REQUIRE(shown["Rows"].size() == 2);
  CHECK(shown["Rows"][0][3] == true);  // IsCurrent
  mgmtOk(engine, "", ".drop database E");
  mgmtOk(engine, "", ".drop database E ifexists");
  checkError(engine.mgmt("", ".drop database E"), 400, "BadRequest_EntityNotFound");
}

TEST_CASE("mgmt: create, show and drop tables") {
  Engine engine(EngineOptions{});
  engine.ensureDatabase("db");
  json created = mgmtOk(engine, "db", ".create table T (a:string, b:long) with (folder='f')");
  CHECK(columnNames(created) ==
        std::vector<std::string>{"TableName", "Schema", "DatabaseName", "Folder", "DocString"});
  CHECK(created["Rows"][0][0] == "T");
  json schema = json::parse(created["Rows"][0][1].get<std::string>());
  CHECK(schema == json::parse(R"({"Name":"T","OrderedColumns":[
      {"Name":"a","Type":"System.String","CslType":"string"},
      {"Name":"b","Type":"System.Int64","CslType":"long"}]})"));
  CHECK(created["Rows"][0][3] == "f");

  // Existing table: succeeds and changes nothing, even with another schema.
  json again = mgmtOk(engine, "db", ".create table T (z:real)");
  CHECK(again["Rows"][0][1] == created["Rows"][0][1]);

  json merged = mgmtOk(engine, "db", ".create-merge table T (b:long, c:dynamic)");
  CHECK(json::parse(merged["Rows"][0][1].get<std::string>())["OrderedColumns"].size() == 3);
  checkError(engine.mgmt("db", ".create-merge table T (b:string)"), 400, "General_BadRequest");

  json tables = mgmtOk(engine, "db", ".show tables");
  CHECK(columnNames(tables) ==
        std::vector<std::string>{"TableName", "DatabaseName", "Folder", "DocString"});
  CHECK(tables["Rows"][0][0] == "T");
  json csl = mgmtOk(engine, "db", ".show table T cslschema");
  CHECK(csl["Rows"][0][1] == "a:string,b:long,c:dynamic");
  json js = mgmtOk(engine, "db", ".show table ['T'] schema as json");
  CHECK(js["Rows"][0][2] == "db");

  checkError(engine.mgmt("db", ".show table X schema as json"), 400, "BadRequest_EntityNotFound");
  mgmtOk(engine, "db", ".drop table T");
  mgmtOk(engine, "db", ".drop table T ifexists");
  checkError(engine.mgmt("db", ".drop table T"), 400, "BadRequest_EntityNotFound");
  CHECK(mgmtOk(engine, "db", ".show tables")["Rows"].empty());
  checkError(engine.mgmt("nodb", ".show tables"), 400, "BadRequest_EntityNotFound");
  checkError(engine.mgmt("", ".show tables"), 400, "General_BadRequest");
}

TEST_CASE("mgmt: ingestion mappings") {
  Engine engine(EngineOptions{});
  setUp(engine);
  const char* create = R"(.create table T ingestion json mapping "m" )"
                       R"('[{"column":"a","Properties":{"Path":"$.a"}}]')";
  json created = mgmtOk(engine, "db", create);
  CHECK(columnNames(created) ==
        std::vector<std::string>{"Name", "Kind", "Mapping", "LastUpdatedOn", "Database", "Table"});
  CHECK(created["Rows"][0][0] == "m");
  CHECK(created["Rows"][0][1] == "json");
  CHECK(json::parse(created["Rows"][0][2].get<std::string>())[0]["column"] == "a");
  CHECK(created["Rows"][0][5] == "T");
  checkError(engine.mgmt("db", create), 400, "BadRequest_EntityAlreadyExists");
  mgmtOk(engine, "db",
         R"(.create-or-alter table T ingestion json mapping "m" )"
         R"('[{"column":"b","Properties":{"Path":"$.b"}}]')");
  mgmtOk(engine, "db",
         R"(.create table T ingestion csv mapping "m" )"
         R"('[{"column":"b","Properties":{"Ordinal":"0"}}]')");
  checkError(engine.mgmt("db", R"(.alter table T ingestion csv mapping "nope" )"
                               R"('[{"column":"b","Properties":{"Ordinal":"0"}}]')"),
             400, "BadRequest_EntityNotFound");
  checkError(engine.mgmt("db", R"(.create table T ingestion json mapping "bad" '{"not":"array"}')"),
             400, "BadRequest_InvalidMapping");
  checkError(engine.mgmt("db", R"(.create table T ingestion json mapping "bad" )"
                               R"('[{"column":"a","Properties":{"Path":"a.b"}}]')"),
             400, "BadRequest_InvalidMapping");
  checkError(engine.mgmt("db", R"(.create table Nope ingestion json mapping "m" )"
                               R"('[{"column":"a","path":"$"}]')"),
             400, "BadRequest_EntityNotFound");

  CHECK(mgmtOk(engine, "db", ".show table T ingestion mappings")["Rows"].size() == 2);
  CHECK(mgmtOk(engine, "db", ".show table T ingestion json mappings")["Rows"].size() == 1);
  json one = mgmtOk(engine, "db", ".show table T ingestion json mapping \"m\"");
  CHECK(json::parse(one["Rows"][0][2].get<std::string>())[0]["column"] == "b");
  checkError(engine.mgmt("db", ".show table T ingestion json mapping \"x\""), 400,
             "BadRequest_EntityNotFound");
  mgmtOk(engine, "db", ".drop table T ingestion json mapping \"m\"");
  CHECK(mgmtOk(engine, "db", ".show table T ingestion json mappings")["Rows"].empty());
  checkError(engine.mgmt("db", ".drop table T ingestion json mapping \"m\""), 400,
             "BadRequest_EntityNotFound");

  mgmtOk(engine, "db",
         R"(.create database db ingestion json mapping "dm" )"
         R"('[{"column":"a","path":"$.a"}]')");
  json dbm = mgmtOk(engine, "db", ".show database db ingestion mappings");
  CHECK(dbm["Rows"][0][4] == "db");
  CHECK(dbm["Rows"][0][5] == "");
}

TEST_CASE("mgmt: streaming ingestion policies") {
  Engine engine(EngineOptions{});
  engine.ensureDatabase("db");
  mgmtOk(engine, "db", ".create table T (a:string)");
  json none = mgmtOk(engine, "db", ".show table T policy streamingingestion");
  CHECK(columnNames(none) == std::vector<std::string>{"PolicyName", "EntityName", "Policy",
                                                      "ChildEntities", "EntityType"});
  CHECK(none["Rows"][0][0] == "StreamingIngestionPolicy");
  CHECK(none["Rows"][0][1] == "[db].[T]");
  CHECK(none["Rows"][0][2].is_null());
  CHECK(none["Rows"][0][4] == "Table");

  json on = mgmtOk(engine, "db",
                   ".alter table T policy streamingingestion "
                   "'{\"IsEnabled\": true, \"HintAllocatedRate\": 2.1}'");
  CHECK(json::parse(on["Rows"][0][2].get<std::string>()) ==
        json::parse(R"({"IsEnabled":true,"HintAllocatedRate":2.1})"));
  json merged = mgmtOk(engine, "db",
                       ".alter-merge table T policy streamingingestion '{\"IsEnabled\": false}'");
  CHECK(json::parse(merged["Rows"][0][2].get<std::string>()) ==
        json::parse(R"({"IsEnabled":false,"HintAllocatedRate":2.1})"));
  checkError(engine.mgmt("db",
                         ".alter table T policy streamingingestion '{\"HintAllocatedRate\":1}'"),
             400, "General_BadRequest");
  checkError(engine.mgmt("db", ".alter table T policy streamingingestion 'not json'"), 400,
             "General_BadRequest");
  json deleted = mgmtOk(engine, "db", ".delete table T policy streamingingestion");
  CHECK(deleted["Rows"][0][2].is_null());

  json dbp = mgmtOk(engine, "db", ".alter database db policy streamingingestion enable");
  CHECK(dbp["Rows"][0][1] == "[db]");
  CHECK(dbp["Rows"][0][4] == "Database");
  CHECK(json::parse(dbp["Rows"][0][3].get<std::string>()) == json::parse(R"(["T"])"));
  CHECK(mgmtOk(engine, "db", ".show database db policy streamingingestion")["Rows"][0][2] ==
        R"({"HintAllocatedRate":null,"IsEnabled":true})");
  CHECK(mgmtOk(engine, "db", ".show table * policy streamingingestion")["Rows"].size() == 1);
  checkError(engine.mgmt("db", ".alter table X policy streamingingestion enable"), 400,
             "BadRequest_EntityNotFound");
}

TEST_CASE("mgmt: misc commands, inline ingest, pipes and syntax errors") {
  Engine engine(EngineOptions{});
  setUp(engine);
  CHECK(columnNames(mgmtOk(engine, "db", ".show version"))[0] == "BuildVersion");
  json cleared = mgmtOk(engine, "db", ".clear table T cache streamingingestion schema");
  CHECK(columnNames(cleared) == std::vector<std::string>{"NodeId", "Status"});
  mgmtOk(engine, "db", ".clear database cache streamingingestion schema");
  json inl = mgmtOk(engine, "db", ".ingest inline into table T <|\nx,1,,\ny,2,,");
  CHECK(columnNames(inl)[0] == "ExtentId");
  CHECK(count(engine, "db", "T") == 2);
  json piped = mgmtOk(engine, "db", ".show tables | where TableName == 'T' | project TableName");
  CHECK(piped["Rows"] == json::parse(R"([["T"]])"));
  checkError(engine.mgmt("db", ".show tables | where Nope == 1"), 400, "General_BadRequest");

  EngineResult bad = engine.mgmt("db", ".frobnicate the thing");
  checkError(bad, 400, "General_BadRequest");
  CHECK(bad.body["error"]["@type"] == "Kusto.Data.Exceptions.SyntaxException");
  CHECK(bad.body["error"]["message"] == "Request is invalid and cannot be executed.");
  CHECK(bad.body["error"]["@message"].get<std::string>().find("frobnicate") != std::string::npos);
}
