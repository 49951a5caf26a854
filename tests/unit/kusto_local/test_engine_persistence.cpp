// Unit tests for kusto-local --data-dir persistence: a full round trip through a restart, and
// recovery from a torn row file.
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "engine_test_util.h"

using namespace kusto_local;
using namespace kusto_local::test;
using nlohmann::json;

namespace {

struct TempDir {
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kl-engine-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

EngineOptions persisted(const TempDir& dir) {
  EngineOptions options;
  options.data_dir = dir.path;
  return options;
}

}  // namespace

TEST_CASE("persistence: databases, tables, mappings, policies and rows survive a restart") {
  TempDir dir;
  {
    Engine engine(persisted(dir));
    REQUIRE(engine.load().empty());
    setUp(engine);
    mgmtOk(engine, "db", ".create table Other (x:int, y:guid, z:timespan, w:bool, r:real)");
    mgmtOk(engine, "db",
           R"(.create table T ingestion json mapping "m" )"
           R"('[{"column":"b","Properties":{"Path":"$.v"}}]')");
    mgmtOk(engine, "db", ".alter table Other policy streamingingestion disable");
    mgmtOk(engine, "", ".create database Empty volatile");
    REQUIRE(ingest(engine, "T", "csv", "a,1,2024-01-01T00:00:00Z,{\"k\":[1]}\n").status == 200);
    REQUIRE(ingest(engine, "T", "json", "{\"v\":2}\n", "m").status == 200);
    mgmtOk(engine, "db", ".alter table Other policy streamingingestion enable");
    REQUIRE(
        ingest(engine, "Other", "csv", "5,0A1B2C3D-0000-1111-2222-333344445555,01:00:00,true,2.5\n")
            .status == 200);
    mgmtOk(engine, "db", ".create table Dropped (a:string)");
    mgmtOk(engine, "db", ".drop table Dropped");
  }
  Engine engine(persisted(dir));
  REQUIRE(engine.load().empty());
  CHECK(mgmtOk(engine, "", ".show databases")["Rows"].size() == 2);
  CHECK(mgmtOk(engine, "db", ".show tables")["Rows"].size() == 2);
  CHECK(queryRows(engine, "db", "T | sort by b asc") ==
        json::parse(R"([["a",1,"2024-01-01T00:00:00.0000000Z",{"k":[1]}],["",2,null,null]])"));
  CHECK(queryRows(engine, "db", "Other") ==
        json::parse(R"([[5,"0a1b2c3d-0000-1111-2222-333344445555","01:00:00",true,2.5]])"));
  CHECK(mgmtOk(engine, "db", ".show table T ingestion json mappings")["Rows"].size() == 1);
  CHECK(engine.tableStats()["db.T"].records == 2);
  // Policies came back: the database one enables T, and ingest with the mapping still works.
  CHECK(ingest(engine, "T", "json", "{\"v\":3}\n", "m").status == 200);
  CHECK(count(engine, "db", "T") == 3);
}

TEST_CASE("persistence: a torn last row is dropped and later appends stay readable") {
  TempDir dir;
  {
    Engine engine(persisted(dir));
    REQUIRE(engine.load().empty());
    setUp(engine);
    REQUIRE(ingest(engine, "T", "csv", "a,1,,\n").status == 200);
  }
  std::string rows_dir = dir.path + "/rows";
  std::string file;
  for (const auto& entry : std::filesystem::directory_iterator(rows_dir)) {
    file = entry.path().string();
  }
  REQUIRE_FALSE(file.empty());
  {
    std::ofstream out(file, std::ios::app);
    out << "[\"torn\",2";  // a crash in the middle of an append
  }
  {
    Engine engine(persisted(dir));
    REQUIRE(engine.load().empty());
    CHECK(count(engine, "db", "T") == 1);
    REQUIRE(ingest(engine, "T", "csv", "b,3,,\n").status == 200);
  }
  Engine engine(persisted(dir));
  REQUIRE(engine.load().empty());
  CHECK(queryRows(engine, "db", "T | project a, b | sort by b asc") ==
        json::parse(R"([["a",1],["b",3]])"));
}

TEST_CASE("persistence: a corrupt metadata file is reported") {
  TempDir dir;
  {
    std::ofstream out(dir.path + "/metadata.json");
    out << "{not json";
  }
  Engine engine(persisted(dir));
  CHECK_FALSE(engine.load().empty());
}

TEST_CASE("persistence: a failed row write is a transient 500 and stores nothing") {
  TempDir dir;
  Engine engine(persisted(dir));
  REQUIRE(engine.load().empty());
  setUp(engine);  // T is the first table: its rows go to rows/1.jsonl
  std::filesystem::create_directories(dir.path + "/rows/1.jsonl");  // open() now fails
  EngineResult r = ingest(engine, "T", "csv", "a,1,,\n");
  checkError(r, 500, "General_InternalServerError", false);
  CHECK(count(engine, "db", "T") == 0);
  std::filesystem::remove(dir.path + "/rows/1.jsonl");
  CHECK(ingest(engine, "T", "csv", "a,1,,\n").status == 200);
  CHECK(count(engine, "db", "T") == 1);
  auto failures = mgmtOk(engine, "db", ".show streamingingestion failures");
  CHECK(failures["Rows"][0][8] == "Transient");
}
