// Unit tests for the kusto-local KQL subset: parsing and running queries against the engine.
#include <doctest/doctest.h>

#include "engine_test_util.h"
#include "tools/kusto-local/kql.h"

using namespace kusto_local;
using namespace kusto_local::test;

TEST_CASE("kql: parse operators") {
  KqlParse p = parseKql(
      "set notruncation; declare query_parameters(x:string); ['T'] | where a == 'x' and b > 2 "
      "| take 10 | limit 5 | summarize n = count() by a, b | project a, z = n | sort by a asc "
      "| count");
  REQUIRE(p.query.has_value());
  CHECK(p.query->table == "T");
  REQUIRE(p.query->ops.size() == 7);
  CHECK(p.query->ops[0].kind == KqlOp::Kind::kWhere);
  CHECK(p.query->ops[0].predicates.size() == 2);
  CHECK(p.query->ops[0].predicates[1].op == CompareOp::kGt);
  CHECK(p.query->ops[1].n == 10);
  CHECK(p.query->ops[3].count_name == "n");
  CHECK(p.query->ops[3].columns.size() == 2);
  CHECK(p.query->ops[4].project[1] == std::make_pair(std::string("z"), std::string("n")));
  CHECK_FALSE(p.query->ops[5].descending);
  CHECK(p.query->ops[6].kind == KqlOp::Kind::kCount);
}

TEST_CASE("kql: literals") {
  KqlParse p = parseKql(
      "T | where c >= datetime(2024-01-01T00:00:00Z) and d == -3.5 and "
      "e == true and f == \"s\" and g < 1h");
  REQUIRE(p.query.has_value());
  const auto& preds = p.query->ops[0].predicates;
  CHECK(preds[0].literal == "2024-01-01T00:00:00Z");
  CHECK(preds[0].literal_text);
  CHECK(preds[1].literal == -3.5);
  CHECK(preds[2].literal == true);
  CHECK(preds[3].literal == "s");
  CHECK(preds[4].literal == "1h");
}

TEST_CASE("kql: syntax errors") {
  for (const char* q :
       {"", "T |", "T | where", "T | where a", "T | where a ==", "T | take x", "T | frob",
        "T | summarize sum(a)", "T; U", "T | project", "'unterminated", "T | take 1 extra"}) {
    INFO(q);
    KqlParse p = parseKql(q);
    CHECK_FALSE(p.query.has_value());
    CHECK(p.error.find("Syntax error") == 0);
  }
}

TEST_CASE("kql: queries over ingested rows") {
  Engine engine(EngineOptions{});
  setUp(engine);
  REQUIRE(ingest(engine, "T", "csv",
                 "x,1,2024-01-01T00:00:00Z,{}\nx,2,2024-01-02T00:00:00Z,[]\ny,3,,\n")
              .status == 200);
  CHECK(count(engine, "db", "T") == 3);
  CHECK(queryRows(engine, "db", "T | where a == 'x' | count")[0][0] == 2);
  CHECK(queryRows(engine, "db", "T | where a != \"x\" | count")[0][0] == 1);
  CHECK(queryRows(engine, "db", "T | where a =~ 'X' | count")[0][0] == 2);
  CHECK(queryRows(engine, "db", "T | where b == 3 | project a")[0][0] == "y");
  CHECK(queryRows(engine, "db", "T | where b >= 2 | count")[0][0] == 2);
  CHECK(queryRows(engine, "db", "T | where c > datetime(2024-01-01T12:00:00Z) | count")[0][0] == 1);
  CHECK(queryRows(engine, "db", "T | where isnull(c) | count")[0][0] == 1);
  CHECK(queryRows(engine, "db", "T | take 2").size() == 2);
  CHECK(queryRows(engine, "db", "T | limit 0").empty());
  auto grouped = queryRows(engine, "db", "T | summarize count() by a | sort by a asc");
  CHECK(grouped == nlohmann::json::parse(R"([["x",2],["y",1]])"));
  CHECK(queryRows(engine, "db", "T | summarize count()") == nlohmann::json::parse("[[3]]"));
  CHECK(queryRows(engine, "db", "T | where a == 'none' | summarize count()") ==
        nlohmann::json::parse("[[0]]"));
  auto projected = queryRows(engine, "db", "T | where b == 1 | project b, a, c, d");
  CHECK(projected == nlohmann::json::parse(R"([[1,"x","2024-01-01T00:00:00.0000000Z",{}]])"));
  CHECK(queryRows(engine, "db", "T | sort by b desc | take 1 | project b")[0][0] == 3);
  CHECK(queryRows(engine, "db", "T | distinct a").size() == 2);
  CHECK(queryRows(engine, "db", "T | where a contains 'X' | count")[0][0] == 2);
}

TEST_CASE("kql: result column metadata") {
  Engine engine(EngineOptions{});
  setUp(engine);
  EngineResult r = engine.query("db", "T | summarize count() by b", false);
  REQUIRE(r.status == 200);
  auto cols = r.body["Tables"][0]["Columns"];
  CHECK(cols[0] ==
        nlohmann::json::parse(R"({"ColumnName":"b","DataType":"Int64","ColumnType":"long"})"));
  CHECK(cols[1]["ColumnName"] == "count_");
  EngineResult c = engine.query("db", "T | count", false);
  CHECK(c.body["Tables"][0]["Columns"][0]["ColumnName"] == "Count");
  CHECK(c.body["Tables"][0]["Rows"] == nlohmann::json::parse("[[0]]"));
}

TEST_CASE("kql: semantic errors are 400 OneApi errors") {
  Engine engine(EngineOptions{});
  setUp(engine);
  EngineResult missing_table = engine.query("db", "Nope | count", false);
  checkError(missing_table, 400, "General_BadRequest");
  CHECK(missing_table.body["error"]["@message"].get<std::string>().find("'Nope'") !=
        std::string::npos);
  checkError(engine.query("db", "T | where zz == 1", true), 400, "General_BadRequest");
  checkError(engine.query("db", "T | project zz", false), 400, "General_BadRequest");
  checkError(engine.query("db", "T | |", false), 400, "General_BadRequest");
  checkError(engine.query("nodb", "T", false), 400, "BadRequest_EntityNotFound");
}
