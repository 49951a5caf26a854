// kusto-local e2e: streaming ingestion of CSV, JSON Lines and multijson (plain and gzip,
// Content-Length and chunked, Expect: 100-continue), checked with v1 and v2 queries; response
// headers; keep-alive; concurrent clients.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "tests/e2e/kusto_local_test_util.h"
#include "tests/support/http_client.h"
#include "tests/support/kusto_local.h"

using namespace std::chrono_literals;
using ingestd::test::gzipCompress;
using ingestd::test::HttpClient;
using ingestd::test::httpRequest;
using ingestd::test::KustoLocal;
using namespace ingestd::test::kl;

namespace {

std::unique_ptr<KustoLocal> startWithTable(std::string_view table = "T") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", table, kSchema);
  return kl;
}

constexpr std::string_view kJsonMapping =
    R"('[{"column":"Name","Properties":{"Path":"$.name"}},)"
    R"({"column":"Value","Properties":{"Path":"$.m.value"}},)"
    R"({"column":"Flag","Properties":{"Path":"$[\'the flag\']"}}]')";

}  // namespace

TEST_CASE("kusto-local: CSV with Content-Length, then rows with count, where, take, project") {
  auto kl = startWithTable();
  const auto r = kl->ingest("Db", "T", "csv", csvRows("a", 0, 10));
  CHECK(consumedRecords(r) == 10);
  CHECK(r.headers.count("content-type") == 1);
  CHECK(r.header("content-type").find("application/json") != std::string::npos);
  CHECK(kl->count("Db", "T") == 10);

  const auto where = kl->rows("Db", R"(T | where Name == "a-7")");
  REQUIRE(where.size() == 1);
  CHECK(where[0][0] == "a-7");
  CHECK(where[0][1] == 7);
  CHECK(where[0][2] == false);

  const auto by_value = kl->rows("Db", "T | where Value == 4");
  REQUIRE(by_value.size() == 1);
  CHECK(by_value[0][0] == "a-4");
  CHECK(by_value[0][2] == true);

  CHECK(kl->rows("Db", "T | take 3").size() == 3);
  CHECK(kl->rows("Db", "T | take 100").size() == 10);

  const auto projected = kl->rows("Db", R"(T | where Name == "a-2" | project Value, Name)");
  REQUIRE(projected.size() == 1);
  CHECK(projected[0] == json::array({2, "a-2"}));

  const auto by_flag = kl->rows("Db", "T | summarize count() by Flag");
  REQUIRE(by_flag.size() == 2);
  for (const auto& row : by_flag) {
    REQUIRE(row.size() == 2);
    CHECK(row[1] == 5);
  }
  CHECK(kl->rows("Db", "T | where Flag == true | count") == std::vector<json>{json::array({5})});
}

TEST_CASE("kusto-local: gzip body (Content-Encoding and magic-byte detection) and chunked") {
  auto kl = startWithTable();
  // gzip + Content-Length
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", csvRows("gz", 0, 50), "", {}, true)) == 50);
  // plain + chunked
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", csvRows("ch", 0, 40), "", {}, false, true)) ==
        40);
  // gzip + chunked, big enough for several chunks (the client sends 16 KiB pieces)
  const auto big = csvRows("gzch", 0, 20000);
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", big, "", {}, true, true)) == 20000);
  // gzip recognised by its magic bytes even without Content-Encoding
  const auto r =
      httpRequest("POST", kl->ingestUrl("Db", "T", "csv"), gzipCompress(csvRows("magic", 0, 3)),
                  {"Content-Type: application/octet-stream"});
  CHECK(consumedRecords(r) == 3);
  // Content-Encoding: gzip on a plain body is tolerated (SDKs send it on every request)
  const auto plain_labelled =
      kl->ingest("Db", "T", "csv", csvRows("lbl", 0, 2), "", {"Content-Encoding: gzip"});
  CHECK(consumedRecords(plain_labelled) == 2);

  CHECK(kl->count("Db", "T") == 50 + 40 + 20000 + 3 + 2);
  CHECK(kl->rows("Db", R"(T | where Name == "gzch-19999")").size() == 1);
  CHECK(kl->rows("Db", R"(T | where Name == "magic-2" | project Value)") ==
        std::vector<json>{json::array({2})});
}

TEST_CASE("kusto-local: Expect: 100-continue gets an interim 100 before the body is sent") {
  auto kl = startWithTable();
  for (bool chunked : {false, true}) {
    for (bool gzip : {false, true}) {
      CAPTURE(chunked);
      CAPTURE(gzip);
      const auto r = kl->ingest("Db", "T", "csv", csvRows("e", 0, 5), "", {"Expect: 100-continue"},
                                gzip, chunked);
      CHECK(r.got_continue);
      CHECK(consumedRecords(r) == 5);
    }
  }
  CHECK(kl->count("Db", "T") == 20);
}

TEST_CASE("kusto-local: CSV with a mapping by ordinal, quoted fields and CRLF line ends") {
  auto kl = startWithTable();
  kl->mgmt("Db", R"(.create table T ingestion csv mapping "bycol" '[)"
                 R"({"Column":"Name","Properties":{"Ordinal":"2"}},)"
                 R"({"Column":"Value","Properties":{"Ordinal":"0"}},)"
                 R"({"Column":"Flag","Properties":{"ConstValue":"true"}}]')");
  const std::string data = "1,ignored,\"quoted, name\"\r\n2,x,\"say \"\"hi\"\"\"\r\n";
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", data, "bycol")) == 2);
  const auto rows = kl->rows("Db", "T | where Value == 1");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0] == json::array({"quoted, name", 1, true}));
  const auto second = kl->rows("Db", "T | where Value == 2 | project Name");
  REQUIRE(second.size() == 1);
  CHECK(second[0][0] == "say \"hi\"");
}

TEST_CASE("kusto-local: JSON Lines with a mapping ($.a.b and $['x'] paths), plain and gzip") {
  auto kl = startWithTable();
  kl->mgmt("Db", std::string(R"(.create table T ingestion json mapping "jm" )") +
                     std::string(kJsonMapping));
  std::string lines;
  for (int i = 0; i < 6; ++i) {
    lines += json({{"name", "j-" + std::to_string(i)},
                   {"m", {{"value", i * 100}}},
                   {"the flag", i == 3},
                   {"extra", "ignored"}})
                 .dump() +
             "\n";
  }
  CHECK(consumedRecords(kl->ingest("Db", "T", "json", lines, "jm")) == 6);
  CHECK(consumedRecords(kl->ingest("Db", "T", "JSON", lines, "jm", {}, true, true)) == 6);
  CHECK(kl->count("Db", "T") == 12);
  const auto rows = kl->rows("Db", "T | where Flag == true");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == json::array({"j-3", 300, true}));
  CHECK(rows[1] == json::array({"j-3", 300, true}));
}

TEST_CASE("kusto-local: multijson (array and objects spanning lines) and identity mapping") {
  auto kl = startWithTable();
  kl->mgmt("Db", std::string(R"(.create table T ingestion json mapping "jm" )") +
                     std::string(kJsonMapping));
  const std::string array = R"([{"name":"arr-1","m":{"value":1},"the flag":true},
                                 {"name":"arr-2","m":{"value":2},"the flag":false}])";
  CHECK(consumedRecords(kl->ingest("Db", "T", "multijson", array, "jm")) == 2);
  const std::string spanning =
      "{\n  \"name\": \"span-1\",\n  \"m\": {\"value\": 10},\n"
      "  \"the flag\": true\n}\n{\"name\":\"span-2\",\"m\":{\"value\":20},"
      "\"the flag\":false}";
  CHECK(consumedRecords(kl->ingest("Db", "T", "MultiJSON", spanning, "jm", {}, true)) == 2);

  // Identity mapping: no mappingName, fields map to columns of the same name.
  const std::string identity = R"({"Name":"id-1","Value":42,"Flag":true})"
                               "\n"
                               R"({"Name":"id-2","Value":43})"
                               "\n";
  CHECK(consumedRecords(kl->ingest("Db", "T", "json", identity)) == 2);

  CHECK(kl->count("Db", "T") == 6);
  CHECK(kl->rows("Db", R"(T | where Name == "span-1" | project Value)") ==
        std::vector<json>{json::array({10})});
  CHECK(kl->rows("Db", R"(T | where Name == "arr-2" | project Flag)") ==
        std::vector<json>{json::array({false})});
  const auto id2 = kl->rows("Db", R"(T | where Name == "id-2")");
  REQUIRE(id2.size() == 1);
  CHECK(id2[0][1] == 43);
  CHECK(id2[0][2].is_null());  // a missing field is null
}

TEST_CASE(
    "kusto-local: column types are converted (int, real, datetime, timespan, guid, dynamic)") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming(
      "Db", "Typed",
      "(i:int, r:real, d:datetime, ts:timespan, g:guid, dyn:dynamic, s:string, b:bool)");
  const std::string line =
      R"({"i":7,"r":2.5,"d":"2024-05-01T10:20:30Z","ts":"01:02:03",)"
      R"("g":"0f8fad5b-d9cb-469f-a165-70867728950e","dyn":{"k":[1,2]},"s":"text","b":true})";
  CHECK(consumedRecords(kl->ingest("Db", "Typed", "json", line + "\n")) == 1);

  const auto frames = kl->query("Db", "Typed | take 1");
  const json* table = nullptr;
  for (const auto& f : frames) {
    if (f.value("TableKind", "") == "PrimaryResult") {
      table = &f;
    }
  }
  REQUIRE(table != nullptr);
  std::vector<std::string> types;
  for (const auto& c : table->at("Columns")) {
    types.push_back(c.at("ColumnType").get<std::string>());
  }
  CHECK(types == std::vector<std::string>{"int", "real", "datetime", "timespan", "guid", "dynamic",
                                          "string", "bool"});
  const auto& row = table->at("Rows").at(0);
  CHECK(row[0] == 7);
  CHECK(row[1] == 2.5);
  CHECK(row[2].get<std::string>().rfind("2024-05-01T10:20:30", 0) == 0);
  CHECK(row[3] == "01:02:03");
  CHECK(row[4] == "0f8fad5b-d9cb-469f-a165-70867728950e");
  CHECK(row[5] == json::parse(R"({"k":[1,2]})"));
  CHECK(row[6] == "text");
  CHECK(row[7] == true);
}

TEST_CASE("kusto-local: v1 and v2 query response shapes") {
  auto kl = startWithTable();
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", csvRows("s", 0, 4))) == 4);

  const auto v2 = kl->query("Db", "T | count", true);
  REQUIRE(v2.is_array());
  REQUIRE(v2.size() >= 3);
  CHECK(v2.front()["FrameType"] == "DataSetHeader");
  CHECK(v2.front()["Version"] == "v2.0");
  CHECK(v2.back()["FrameType"] == "DataSetCompletion");
  CHECK(v2.back()["HasErrors"] == false);
  CHECK(v2.back()["Cancelled"] == false);
  int primaries = 0;
  for (const auto& f : v2) {
    if (f.value("TableKind", "") == "PrimaryResult") {
      ++primaries;
      CHECK(f["FrameType"] == "DataTable");
      CHECK(f["TableName"] == "PrimaryResult");
      CHECK(f["Columns"] == json::parse(R"([{"ColumnName":"Count","ColumnType":"long"}])"));
      CHECK(f["Rows"] == json::parse("[[4]]"));
    }
  }
  CHECK(primaries == 1);

  const auto v1 = kl->query("Db", "T | where Value == 3 | project Name, Value", false);
  REQUIRE(v1.contains("Tables"));
  const auto& t0 = v1["Tables"].at(0);
  CHECK(t0["TableName"] == "Table_0");
  REQUIRE(t0["Columns"].size() == 2);
  CHECK(t0["Columns"][0]["ColumnName"] == "Name");
  CHECK(t0["Columns"][0]["ColumnType"] == "string");
  CHECK(t0["Columns"][0]["DataType"] == "String");
  CHECK(t0["Columns"][1]["ColumnType"] == "long");
  CHECK(t0["Columns"][1]["DataType"] == "Int64");
  CHECK(t0["Rows"] == json::parse(R"([["s-3",3]])"));
  // With three or more tables the last one is the TableOfContents.
  if (v1["Tables"].size() >= 3) {
    const auto& toc = v1["Tables"].back();
    CHECK(columnIndex(toc, "Kind") >= 0);
    CHECK(columnIndex(toc, "Ordinal") >= 0);
  }

  // A query error: unknown table -> 4xx OneApi error.
  const auto bad = kl->queryRaw("Db", "NoSuchTable | count");
  CHECK(bad.status >= 400);
  CHECK(bad.status < 500);
  CHECK(parseJson(bad).contains("error"));
}

TEST_CASE("kusto-local: responses echo x-ms-client-request-id and carry a fresh activity id") {
  auto kl = startWithTable();
  const auto a = kl->ingest("Db", "T", "csv", "x,1,true\n", "",
                            {"x-ms-client-request-id: KNC.executeStreamingIngest;abc-123"});
  CHECK(a.status == 200);
  CHECK(a.header("x-ms-client-request-id") == "KNC.executeStreamingIngest;abc-123");
  const auto b = kl->ingest("Db", "T", "csv", "y,2,true\n", "",
                            {"x-ms-client-request-id: MyApp.Ingest;second"});
  CHECK(b.header("x-ms-client-request-id") == "MyApp.Ingest;second");
  REQUIRE(a.headers.count("x-ms-activity-id") == 1);
  REQUIRE(b.headers.count("x-ms-activity-id") == 1);
  CHECK(a.header("x-ms-activity-id").size() == 36);  // a GUID
  CHECK(a.header("x-ms-activity-id") != b.header("x-ms-activity-id"));

  // Errors, queries and mgmt carry them too; the error context names the request id.
  const auto err = kl->ingest("Db", "NoTable", "csv", "z\n", "",
                              {"x-ms-client-request-id: MyApp.Ingest;failing"});
  CHECK(err.status >= 400);
  CHECK(err.header("x-ms-client-request-id") == "MyApp.Ingest;failing");
  CHECK(err.headers.count("x-ms-activity-id") == 1);
  const auto ctx = parseJson(err)["error"]["@context"];
  CHECK(ctx.value("clientRequestId", "") == "MyApp.Ingest;failing");
  CHECK(ctx.value("activityId", "") == err.header("x-ms-activity-id"));

  const auto q = kl->queryRaw("Db", "T | count", true, {"x-ms-client-request-id: KNC.execute;q1"});
  CHECK(q.header("x-ms-client-request-id") == "KNC.execute;q1");
  CHECK(q.headers.count("x-ms-activity-id") == 1);
  const auto m = kl->mgmtRaw("Db", ".show tables", {"x-ms-client-request-id: KNC.execute;m1"});
  CHECK(m.header("x-ms-client-request-id") == "KNC.execute;m1");
  CHECK(m.header("x-ms-activity-id") != q.header("x-ms-activity-id"));
}

TEST_CASE("kusto-local: keep-alive serves many requests on one connection") {
  auto kl = startWithTable();
  HttpClient client;
  for (int i = 0; i < 25; ++i) {
    const auto r = client.request("POST", kl->ingestUrl("Db", "T", "csv"),
                                  csvRows("ka" + std::to_string(i), 0, 4),
                                  {"Content-Type: application/octet-stream"}, 10s, i % 2 == 1);
    CHECK(consumedRecords(r) == 4);
  }
  // Errors do not close the connection either.
  const auto err = client.request("POST", kl->ingestUrl("Db", "Missing", "csv"), "a\n", {}, 10s);
  CHECK(err.status >= 400);
  const auto last = client.request("GET", kl->url() + "/healthz");
  CHECK(last.status == 200);
  CHECK(client.connectionsOpened() == 1);
  CHECK(kl->count("Db", "T") == 100);
}

TEST_CASE("kusto-local: concurrent clients, every row counted") {
  auto kl = startWithTable();
  constexpr int kThreads = 8;
  constexpr int kRequests = 20;
  constexpr int kRows = 25;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client;
      for (int i = 0; i < kRequests; ++i) {
        const auto r = client.request(
            "POST", kl->ingestUrl("Db", "T", "csv"),
            gzipCompress(csvRows("t" + std::to_string(t) + "r" + std::to_string(i), 0, kRows)),
            {"Content-Encoding: gzip"}, 20s, (i + t) % 2 == 0);
        if (r.status == 200 && r.body.find("ConsumedRecordsCount") != std::string::npos) {
          ++ok;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK(failed.load() == 0);
  CHECK(ok.load() == kThreads * kRequests);
  CHECK(kl->count("Db", "T") == kThreads * kRequests * kRows);
  CHECK(kl->rows("Db", R"(T | where Name == "t7r19-24")").size() == 1);
}

TEST_CASE("kusto-local: other delimited and text formats (tsv, psv, scsv, sohsv, txt, raw)") {
  auto kl = startWithTable();
  CHECK(consumedRecords(kl->ingest("Db", "T", "tsv", "tsv-1\t1\ttrue\ntsv-2\t2\tfalse\n")) == 2);
  CHECK(consumedRecords(kl->ingest("Db", "T", "psv", "psv-1|3|true\n")) == 1);
  CHECK(consumedRecords(kl->ingest("Db", "T", "SCsv", "scsv-1;4;true\n")) == 1);
  CHECK(consumedRecords(kl->ingest("Db", "T", "sohsv",
                                   std::string("soh-1\x01"
                                               "5\x01true\n"))) == 1);
  CHECK(consumedRecords(kl->ingest("Db", "T", "txt", "a line, with commas\nsecond line\n")) == 2);
  CHECK(consumedRecords(kl->ingest("Db", "T", "raw", "the whole\nbody")) == 1);
  CHECK(consumedRecords(kl->ingest("Db", "T", "singlejson",
                                   R"({"Name":"single","Value":6,"Flag":true})")) == 1);
  CHECK(kl->count("Db", "T") == 9);
  CHECK(kl->rows("Db", R"(T | where Name == "tsv-2" | project Value, Flag)") ==
        std::vector<json>{json::array({2, false})});
  CHECK(kl->rows("Db", R"(T | where Name == "soh-1" | project Value)") ==
        std::vector<json>{json::array({5})});
  CHECK(kl->rows("Db", R"(T | where Name == "a line, with commas" | project Value)") ==
        std::vector<json>{json::array({nullptr})});
  CHECK(kl->rows("Db", R"(T | where Name == "the whole\nbody" | count)") ==
        std::vector<json>{json::array({1})});
}

TEST_CASE("kusto-local: database-level mappings and transforms") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "E", "(Line:long, At:datetime, Msg:string)");
  kl->mgmt("Db",
           R"(.create database Db ingestion json mapping "dbmap" '[)"
           R"({"column":"Line","Properties":{"Transform":"SourceLineNumber"}},)"
           R"({"column":"At","Properties":{"Path":"$.ts","Transform":"DateTimeFromUnixSeconds"}},)"
           R"({"column":"Msg","Properties":{"Path":"$.m"}}]')");
  const std::string lines = R"({"ts":0,"m":"epoch"})"
                            "\n"
                            R"({"ts":1700000000,"m":"later"})"
                            "\n";
  CHECK(consumedRecords(kl->ingest("Db", "E", "json", lines, "dbmap")) == 2);
  const auto rows = kl->rows("Db", R"(E | where Msg == "later")");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0] == 2);
  CHECK(rows[0][1].get<std::string>().rfind("2023-11-14T22:13:20", 0) == 0);
  CHECK(kl->rows("Db", R"(E | where Msg == "epoch" | project At)")[0][0].get<std::string>().rfind(
            "1970-01-01T00:00:00", 0) == 0);
}
