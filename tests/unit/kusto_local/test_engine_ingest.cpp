// Unit tests for kusto-local streaming ingest: formats, mappings, identity mapping, conversions
// and every enforcement error (status, code, @permanent).
#include <thread>

#include <doctest/doctest.h>

#include "engine_test_util.h"
#include "tools/kusto-local/ingest_formats.h"

using namespace kusto_local;
using namespace kusto_local::test;
using nlohmann::json;

namespace {

json rows(Engine& engine, std::string_view table = "T") {
  return queryRows(engine, "db", std::string(table));
}

}  // namespace

TEST_CASE("ingest: success body is the v1 one-table shape") {
  Engine engine(EngineOptions{});
  setUp(engine);
  EngineResult r = ingest(engine, "T", "CSV", "a,1,,\nb,2,,\n");
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"Tables":[{"TableName":"Table_0","Columns":[
    {"ColumnName":"ConsumedRecordsCount","DataType":"Int64","ColumnType":"long"},
    {"ColumnName":"UpdatePolicyStatus","DataType":"String","ColumnType":"string"},
    {"ColumnName":"UpdatePolicyFailureCode","DataType":"String","ColumnType":"string"},
    {"ColumnName":"UpdatePolicyFailureReason","DataType":"String","ColumnType":"string"}],
    "Rows":[[2,"Inactive","Unknown",null]]}]})"));
  auto stats = engine.tableStats();
  CHECK(stats["db.T"].records == 2);
  CHECK(stats["db.T"].requests == 1);
  CHECK(stats["db.T"].bytes == 12);
}

TEST_CASE("ingest: csv quoting, embedded newlines, CRLF, BOM, empty lines") {
  Engine engine(EngineOptions{});
  setUp(engine);
  std::string data =
      "\xEF\xBB\xBF\"he said \"\"hi\"\"\",1,,\r\n\r\n\"multi\nline, with comma\",2,,"
      "\r\nplain,3,2024-05-06T07:08:09Z,\"{\"\"k\"\":1}\"";
  REQUIRE(ingest(engine, "T", "csv", data).status == 200);
  json r = rows(engine);
  REQUIRE(r.size() == 3);
  CHECK(r[0][0] == "he said \"hi\"");
  CHECK(r[1][0] == "multi\nline, with comma");
  CHECK(r[2] == json::parse(R"(["plain",3,"2024-05-06T07:08:09.0000000Z",{"k":1}])"));
}

TEST_CASE("ingest: tsv, psv, scsv, sohsv, tsve delimiters") {
  Engine engine(EngineOptions{});
  setUp(engine);
  REQUIRE(ingest(engine, "T", "tsv", "a\t1\t\t\n").status == 200);
  REQUIRE(ingest(engine, "T", "psv", "b|2||\n").status == 200);
  REQUIRE(ingest(engine, "T", "scsv", "c;3;;\n").status == 200);
  REQUIRE(ingest(engine, "T", "sohsv",
                 std::string("d\x01"
                             "4\x01\x01\n"))
              .status == 200);
  REQUIRE(ingest(engine, "T", "tsve", "e\\tx\t5\t\t\n").status == 200);
  json r = queryRows(engine, "db", "T | project a, b | sort by b asc");
  CHECK(r == json::parse(R"([["a",1],["b",2],["c",3],["d",4],["e\tx",5]])"));
}

TEST_CASE("ingest: json lines with identity mapping, CRLF, blank lines, unicode escapes") {
  Engine engine(EngineOptions{});
  setUp(engine);
  std::string data =
      "{\"a\":\"\\u00e9t\\u00e9\",\"b\":5,\"c\":\"2024-01-02T03:04:05.123Z\","
      "\"d\":{\"x\":[1,2]},\"extra\":1}\r\n\r\n   \n{\"A\":\"case\",\"b\":\"7\"}\n";
  REQUIRE(ingest(engine, "T", "json", data).status == 200);
  json r = rows(engine);
  REQUIRE(r.size() == 2);
  CHECK(r[0] == json::parse(R"(["été",5,"2024-01-02T03:04:05.1230000Z",{"x":[1,2]}])"));
  // Identity mapping is case-sensitive: "A" does not fill column a.
  CHECK(r[1] == json::parse(R"(["",7,null,null])"));
}

TEST_CASE("ingest: multijson arrays and objects spanning lines, singlejson") {
  Engine engine(EngineOptions{});
  setUp(engine);
  REQUIRE(ingest(engine, "T", "multijson",
                 "{\n \"a\": \"x{\\\"\",\n \"b\": 1\n}\n{\"b\":2}"
                 "[{\"b\":3},{\"b\":4}]")
              .status == 200);
  CHECK(count(engine, "db", "T") == 4);
  CHECK(queryRows(engine, "db", "T | where b == 1 | project a")[0][0] == "x{\"");
  REQUIRE(ingest(engine, "T", "singlejson", "{\n\"b\": 9\n}\n").status == 200);
  CHECK(count(engine, "db", "T") == 5);
}

TEST_CASE("ingest: json mapping paths, ConstValue and transforms") {
  Engine engine(EngineOptions{});
  setUp(engine);
  mgmtOk(engine, "db",
         R"(.create table T ingestion json mapping "m" '[)"
         R"({"column":"a","Properties":{"Path":"$.outer.inner"}},)"
         R"({"Column":"b","properties":{"path":"$[\'weird key\']"}},)"
         R"({"column":"c","Properties":{"Path":"$.ts",)"
         R"("Transform":"DateTimeFromUnixSeconds"}},)"
         R"({"column":"d","Properties":{"Path":"$.arr[1]"}}]')");
  REQUIRE(ingest(engine, "T", "json",
                 R"({"outer":{"inner":"deep"},"weird key":42,"ts":1700000000,"arr":[0,{"z":1}]})",
                 "m")
              .status == 200);
  CHECK(rows(engine)[0] == json::parse(R"(["deep",42,"2023-11-14T22:13:20.0000000Z",{"z":1}])"));

  mgmtOk(engine, "db", R"(.create table U (s:string, n:long, whole:dynamic, line:long))");
  mgmtOk(engine, "db",
         R"(.create table U ingestion json mapping "m2" '[)"
         R"({"column":"s","Properties":{"ConstValue":"fixed"}},)"
         R"({"column":"n","path":"$.n"},)"
         R"({"column":"whole","Properties":{"Path":"$"}},)"
         R"({"column":"line","Properties":{"Transform":"SourceLineNumber"}}]')");
  REQUIRE(ingest(engine, "U", "json", "{\"n\":1}\n{\"n\":\"bad\"}\n", "m2").status == 200);
  json u = rows(engine, "U");
  CHECK(u[0] == json::parse(R"(["fixed",1,{"n":1},1])"));
  CHECK(u[1] == json::parse(R"(["fixed",null,{"n":"bad"},2])"));
}

TEST_CASE("ingest: csv mapping by ordinal (string or number) and ConstValue") {
  Engine engine(EngineOptions{});
  setUp(engine);
  mgmtOk(engine, "db",
         R"(.create table T ingestion csv mapping "c" '[)"
         R"({"Column":"a","Properties":{"Ordinal":"2"}},)"
         R"({"Column":"b","Properties":{"Ordinal":0}},)"
         R"({"Column":"d","Properties":{"ConstValue":"{\\"k\\":true}"}}]')");
  REQUIRE(ingest(engine, "T", "csv", "10,ignored,hello\n20,x,world\n", "c").status == 200);
  json r = queryRows(engine, "db", "T | sort by b asc");
  CHECK(r[0] == json::parse(R"(["hello",10,null,{"k":true}])"));
  CHECK(r[1][0] == "world");
}

TEST_CASE("ingest: database-scoped mapping and txt/raw formats") {
  Engine engine(EngineOptions{});
  setUp(engine);
  mgmtOk(engine, "db",
         R"(.create database db ingestion json mapping "dbm" )"
         R"('[{"column":"b","Properties":{"Path":"$.v"}}]')");
  REQUIRE(ingest(engine, "T", "multijson", R"([{"v":1},{"v":2}])", "dbm").status == 200);
  CHECK(count(engine, "db", "T") == 2);
  mgmtOk(engine, "db", ".create table L (line:string, n:long)");
  REQUIRE(ingest(engine, "L", "txt", "first line\r\nsecond, with comma\n\nthird").status == 200);
  CHECK(queryRows(engine, "db", "L | project line") ==
        json::parse(R"([["first line"],["second, with comma"],["third"]])"));
  REQUIRE(ingest(engine, "L", "raw", "all\nof it").status == 200);
  CHECK(queryRows(engine, "db", "L | where line == 'all\\nof it' | count")[0][0] == 1);
}

TEST_CASE("ingest: unconvertible values become null rather than failing") {
  Engine engine(EngineOptions{});
  setUp(engine);
  REQUIRE(ingest(engine, "T", "csv", "a,notanumber,notadate,\n").status == 200);
  CHECK(rows(engine)[0] == json::parse(R"(["a",null,null,null])"));
}

TEST_CASE("ingest: enforcement errors") {
  Engine engine(EngineOptions{});
  setUp(engine);
  mgmtOk(engine, "db", ".create table P (a:string)");
  mgmtOk(engine, "db", ".alter table P policy streamingingestion disable");
  mgmtOk(engine, "db",
         R"(.create table T ingestion csv mapping "csvmap" )"
         R"('[{"Column":"a","Properties":{"Ordinal":"0"}}]')");
  mgmtOk(engine, "db",
         R"(.create table T ingestion json mapping "badcol" )"
         R"('[{"Column":"zz","Properties":{"Path":"$.a"}}]')");

  IngestRequest nodb{"nodb", "T", "csv", "", "a,1,,\n"};
  checkError(engine.ingest(nodb), 400, "BadRequest_DatabaseNotExist");
  checkError(ingest(engine, "Nope", "csv", "a\n"), 400, "BadRequest_TableNotExist");
  checkError(ingest(engine, "P", "csv", "a\n"), 400,
             "BadRequest_StreamingIngestionPolicyNotEnabled");
  checkError(ingest(engine, "T", "csv", "a,1,,\n", "missing"), 400,
             "BadRequest_MappingReferenceWasNotFound");
  // A csv mapping cannot serve a json format.
  checkError(ingest(engine, "T", "json", "{}", "csvmap"), 400,
             "BadRequest_MappingReferenceWasNotFound");
  checkError(ingest(engine, "T", "json", "{\"a\":1}", "badcol"), 400,
             "BadRequest_InconsistentMapping");
  checkError(ingest(engine, "T", "avro", "x"), 400, "BadRequest_FormatNotSupported");
  checkError(ingest(engine, "T", "csv", ""), 400, "Stream_NoDataToIngest");
  checkError(ingest(engine, "T", "json", "\n\n"), 400, "Stream_NoDataToIngest");
  checkError(ingest(engine, "T", "csv", "a,1,,\nb,2,,,extra\n"), 400, "Stream_WrongNumberOfFields");
  checkError(ingest(engine, "T", "csv", "a,1\n"), 400, "Stream_WrongNumberOfFields");
  checkError(ingest(engine, "T", "csv", "\"open,1,,\n"), 400, "Stream_ClosingQuoteMissing");
  checkError(ingest(engine, "T", "json", "{\"a\":1}\n{broken\n"), 400,
             "BadRequest_NoRecordsOrWrongFormat");
  checkError(ingest(engine, "T", "json", "[1,2]\n"), 400, "BadRequest_NoRecordsOrWrongFormat");
  checkError(ingest(engine, "T", "multijson", "{\"a\":1} {\"a\":"), 400,
             "BadRequest_NoRecordsOrWrongFormat");
  // All-or-nothing: none of the failed requests stored anything.
  CHECK(count(engine, "db", "T") == 0);

  // A table policy overrides the database policy, both ways.
  mgmtOk(engine, "db", ".alter table P policy streamingingestion enable");
  mgmtOk(engine, "db", ".alter database db policy streamingingestion disable");
  CHECK(ingest(engine, "P", "csv", "a\n").status == 200);
  checkError(ingest(engine, "T", "csv", "a,1,,\n"), 400,
             "BadRequest_StreamingIngestionPolicyNotEnabled");

  auto failures = mgmtOk(engine, "db", ".show streamingingestion failures");
  CHECK(failures["Columns"][9]["ColumnName"] == "ErrorCode");
  CHECK(failures["Rows"].size() >= 10);
  auto filtered = mgmtOk(engine, "db",
                         ".show streamingingestion failures | where ErrorCode == "
                         "'Stream_WrongNumberOfFields' | project Count");
  CHECK(filtered["Rows"] == json::parse("[[2]]"));
}

TEST_CASE("ingest: size limit and strict json mapping option") {
  EngineOptions options;
  options.max_ingest_raw_bytes = 16;
  options.require_json_mapping = true;
  Engine engine(options);
  setUp(engine);
  checkError(ingest(engine, "T", "csv", "0123456789,1,,\n0123,2,,\n"), 413,
             "Stream_InputStreamTooLarge");
  checkError(ingest(engine, "T", "json", "{}"), 400, "BadRequest_MissingMappingtFailure");
  CHECK(ingest(engine, "T", "csv", "a,1,,\n").status == 200);
}

TEST_CASE("ingest: schema grown by create-merge pads new columns") {
  Engine engine(EngineOptions{});
  setUp(engine);
  REQUIRE(ingest(engine, "T", "csv", "a,1,,\n").status == 200);
  mgmtOk(engine, "db", ".create-merge table T (a:string, e:real)");
  REQUIRE(ingest(engine, "T", "json", "{\"a\":\"b\",\"e\":1.5}").status == 200);
  CHECK(queryRows(engine, "db", "T | project a, e | sort by a asc") ==
        json::parse(R"([["a",null],["b",1.5]])"));
}

TEST_CASE("ingest: 100k rows and a fast count") {
  Engine engine(EngineOptions{});
  setUp(engine);
  std::string data;
  for (int i = 0; i < 100000; ++i) {
    data += "{\"a\":\"r\",\"b\":" + std::to_string(i) + "}\n";
  }
  EngineOptions big;
  REQUIRE(ingest(engine, "T", "json", data).status == 200);
  CHECK(count(engine, "db", "T") == 100000);
  CHECK(queryRows(engine, "db", "T | where b == 99999 | count")[0][0] == 1);
}

TEST_CASE("countRecords: cheap counting per format") {
  CHECK(Engine::countRecords("csv", "") == 0);
  CHECK(Engine::countRecords("csv", "a\nb\n") == 2);
  CHECK(Engine::countRecords("json", "{}\n{}") == 2);
  CHECK(Engine::countRecords("TXT", "x") == 1);
  CHECK(Engine::countRecords("multijson", "[{\"a\":\"}{\"},{\"b\":{\"c\":1}}]") == 2);
  CHECK(Engine::countRecords("multijson", "{\"a\":1}\n{\"a\":\n2}\n") == 2);
  CHECK(Engine::countRecords("singlejson", "{\"a\":1}") == 1);
  CHECK(Engine::countRecords("raw", "a\nb") == 1);
}

TEST_CASE("ingest: concurrent requests, queries and schema changes keep every row") {
  Engine engine(EngineOptions{});
  setUp(engine);
  constexpr int kThreads = 4;
  constexpr int kRequests = 50;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&engine, t] {
      for (int i = 0; i < kRequests; ++i) {
        std::string body = "{\"a\":\"t" + std::to_string(t) + "\",\"b\":1}\n{\"b\":2}\n";
        if (ingest(engine, "T", "json", body).status != 200) {
          std::abort();
        }
        if (t == 0 && i % 10 == 0) {
          engine.mgmt("db", ".create-merge table T (extra" + std::to_string(i) + ":long)");
        }
        engine.query("db", "T | summarize count() by a", true);
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK(count(engine, "db", "T") == kThreads * kRequests * 2);
  CHECK(engine.tableStats()["db.T"].requests == kThreads * kRequests);
}

TEST_CASE("ingest: invalid UTF-8 in text formats and names is replaced, responses serialize") {
  Engine engine(EngineOptions{});
  setUp(engine);
  REQUIRE(ingest(engine, "T", "csv", "bad\xff,1,,\xfe\n").status == 200);
  EngineResult r = engine.query("db", "T", true);
  REQUIRE(r.status == 200);
  CHECK_NOTHROW((void)r.body.dump());
  CHECK(queryRows(engine, "db", "T | project a")[0][0] == "bad\xEF\xBF\xBD");
  EngineResult bad_format = ingest(engine, "T", "c\xffsv", "x");
  CHECK(bad_format.status == 400);
  CHECK_NOTHROW((void)bad_format.body.dump());
  CHECK_NOTHROW((void)engine.mgmt("db", ".show streamingingestion failures").body.dump());
  // A lone surrogate escape in a command literal does not produce invalid UTF-8.
  EngineResult created = engine.mgmt("db", ".create table U (a:string) with (docstring='\\uD800')");
  REQUIRE(created.status == 200);
  CHECK_NOTHROW((void)created.body.dump());
}
