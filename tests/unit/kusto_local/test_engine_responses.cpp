// Unit tests for kusto-local response shapes: OneApi errors, v1 datasets and v2 frames.
#include <doctest/doctest.h>

#include "engine_test_util.h"
#include "tools/kusto-local/responses.h"

using namespace kusto_local;
using namespace kusto_local::test;
using nlohmann::json;

TEST_CASE("responses: OneApi error object and context") {
  json e = makeOneApiError(413, "Stream_InputStreamTooLarge", "too big",
                           "Kusto.DataNode.Exceptions.StreamingIngestionRequestException", true);
  const json& err = e["error"];
  CHECK(err["code"] == "Stream_InputStreamTooLarge");
  CHECK(err["message"] == "Request payload exceeded limits.");
  CHECK(err["@message"] == "too big");
  CHECK(err["@permanent"] == true);
  CHECK(err["@failureCode"] == 413);
  for (const char* key : {"timestamp", "serviceAlias", "machineName", "processName", "processId",
                          "threadId", "appDomainName", "clientRequestId", "activityId",
                          "subActivityId", "activityType", "parentActivityId", "activityStack"}) {
    CHECK_MESSAGE(err["@context"].contains(key), key);
  }
  CHECK(err["@context"]["serviceAlias"] == "KUSTO-LOCAL");
  addErrorContext(e, "KNC.execute;123", "act-1");
  CHECK(e["error"]["@context"]["clientRequestId"] == "KNC.execute;123");
  CHECK(e["error"]["@context"]["activityId"] == "act-1");
  json ok = {{"Tables", json::array()}};
  addErrorContext(ok, "x", "y");
  CHECK(ok == json{{"Tables", json::array()}});
  EngineResult r = errorResult(429, "Throttling", "slow down", "T", false);
  CHECK(r.status == 429);
  CHECK(r.body["error"]["@permanent"] == false);
}

TEST_CASE("responses: v1 query dataset has a table of contents") {
  Engine engine(EngineOptions{});
  setUp(engine);
  EngineResult r = engine.query("db", "T | count", false);
  REQUIRE(r.status == 200);
  const json& tables = r.body["Tables"];
  REQUIRE(tables.size() == 4);
  CHECK(tables[0]["TableName"] == "Table_0");
  CHECK(tables[0]["Rows"] == json::parse("[[0]]"));
  const json& toc = tables[3];
  CHECK(toc["Columns"][0]["ColumnName"] == "Ordinal");
  REQUIRE(toc["Rows"].size() == 3);
  CHECK(toc["Rows"][0][1] == "QueryResult");
  CHECK(toc["Rows"][1][1] == "QueryProperties");
  CHECK(toc["Rows"][2][1] == "QueryStatus");
  CHECK(tables[2]["Columns"][1]["ColumnName"] == "Severity");
}

TEST_CASE("responses: v2 frames") {
  Engine engine(EngineOptions{});
  setUp(engine);
  EngineResult r = engine.query("db", "T | project a, c, d", true);
  REQUIRE(r.status == 200);
  const json& frames = r.body;
  REQUIRE(frames.is_array());
  CHECK(frames.front() == json::parse(R"({"FrameType":"DataSetHeader","IsProgressive":false,
      "Version":"v2.0","IsFragmented":false,"ErrorReportingPlacement":"EndOfTable"})"));
  CHECK(frames.back() ==
        json::parse(R"({"FrameType":"DataSetCompletion","HasErrors":false,"Cancelled":false})"));
  const json* primary = nullptr;
  for (const auto& f : frames) {
    if (f["FrameType"] == "DataTable" && f["TableKind"] == "PrimaryResult") {
      primary = &f;
    }
  }
  REQUIRE(primary != nullptr);
  CHECK((*primary)["TableName"] == "PrimaryResult");
  CHECK((*primary)["TableId"] == 1);
  CHECK((*primary)["Columns"] == json::parse(R"([{"ColumnName":"a","ColumnType":"string"},
      {"ColumnName":"c","ColumnType":"datetime"},{"ColumnName":"d","ColumnType":"dynamic"}])"));
  CHECK(frames[1]["TableKind"] == "QueryProperties");
  CHECK(frames[3]["TableKind"] == "QueryCompletionInformation");
}

TEST_CASE("responses: management results are one v1 table") {
  Engine engine(EngineOptions{});
  setUp(engine);
  EngineResult r = engine.mgmt("db", ".show tables");
  REQUIRE(r.status == 200);
  REQUIRE(r.body["Tables"].size() == 1);
  CHECK(r.body["Tables"][0]["TableName"] == "Table_0");
  CHECK(r.body["Tables"][0]["Columns"][0] ==
        json::parse(R"({"ColumnName":"TableName","DataType":"String","ColumnType":"string"})"));
}

TEST_CASE("responses: v2 frames serialize one per line with FrameType first") {
  Engine engine(EngineOptions{});
  setUp(engine);
  EngineResult r = engine.query("db", "T | count", true);
  REQUIRE(r.status == 200);
  std::string text = serializeV2Frames(r.body);
  CHECK(json::parse(text) == r.body);
  CHECK(text.rfind("[{\"FrameType\":\"DataSetHeader\",\"IsProgressive\":false,\"Version\":"
                   "\"v2.0\"",
                   0) == 0);
  CHECK(text.substr(text.size() - 2) == "\n]");
  std::size_t lines = 0;
  std::size_t pos = 0;
  while ((pos = text.find('\n', pos)) != std::string::npos) {
    ++pos;
    ++lines;
    if (text[pos] == ',') {
      CHECK(text.compare(pos, 14, ",{\"FrameType\":") == 0);
    }
  }
  CHECK(lines == r.body.size());
  CHECK(text.find("{\"FrameType\":\"DataTable\",\"TableId\":1,\"TableKind\":\"PrimaryResult\","
                  "\"TableName\":\"PrimaryResult\",\"Columns\":") != std::string::npos);
  json error = makeOneApiError(400, "X", "y", "T", true);
  CHECK(serializeV2Frames(error) == error.dump());
}
