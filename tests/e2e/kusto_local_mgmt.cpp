// kusto-local e2e: process lifecycle (listening line, SIGTERM), databases, tables, mappings and
// the streaming policy through POST /v1/rest/mgmt, as a user of a cluster would set them up.
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "tests/e2e/kusto_local_test_util.h"
#include "tests/support/http_client.h"
#include "tests/support/kusto_local.h"

using namespace std::chrono_literals;
using ingestd::test::httpRequest;
using ingestd::test::KustoLocal;
using namespace ingestd::test::kl;

TEST_CASE("kusto-local: first stdout line is the listening line, SIGTERM exits 0 cleanly") {
  auto kl = KustoLocal::start();
  const std::string out = kl->process().stdoutText();
  const std::string first = out.substr(0, out.find('\n'));
  CHECK(first == "listening on 127.0.0.1:" + std::to_string(kl->port()));
  CHECK(kl->port() > 0);

  const auto health = httpRequest("GET", kl->url() + "/healthz");
  CHECK(health.status == 200);
  const auto unknown = httpRequest("GET", kl->url() + "/no/such/endpoint");
  CHECK(unknown.status == 404);

  CHECK(kl->stop() == 0);
  const std::string err = kl->process().stderrText();
  CHECK(err.find("Sanitizer") == std::string::npos);
  CHECK(err.find("terminate called") == std::string::npos);
  CHECK(err.find("runtime error") == std::string::npos);
  // After exit nothing listens on the port any more.
  const auto after = httpRequest("GET", kl->url() + "/healthz", {}, {}, 2s);
  CHECK(after.status == 0);
}

TEST_CASE("kusto-local: SIGINT also stops it") {
  auto kl = KustoLocal::start();
  kl->process().signal(SIGINT);
  const auto status = kl->process().wait(10s);
  REQUIRE(status);
  CHECK(*status == 0);
}

TEST_CASE("kusto-local: bad command line fails with a non-zero exit code") {
  ingestd::test::Process p(
      {ingestd::test::binPath("kusto-local"), "--listen", "127.0.0.1:0", "--no-such-flag"});
  const auto status = p.wait(10s);
  REQUIRE(status);
  CHECK(*status == 2);  // docs/kusto-local.md: a bad flag exits 2
  CHECK_FALSE(p.stderrText().empty());
  CHECK(p.stdoutText().find("listening on") == std::string::npos);
}

TEST_CASE("kusto-local: databases from --database flags and from .create database volatile") {
  auto kl = KustoLocal::start({"--database", "Alpha", "--database", "Beta"});
  kl->mgmt("Alpha", ".create table T1 (a:string)");
  kl->mgmt("Beta", ".create table T1 (a:string)");
  CHECK(kl->count("Alpha", "T1") == 0);

  // An unknown database is refused until it is created.
  const auto missing = kl->mgmtRaw("Gamma", ".create table T1 (a:string)");
  CHECK(missing.status >= 400);
  CHECK(missing.status < 500);
  // The service's code for an unknown entity in a control command.
  CHECK(parseJson(missing)["error"].value("code", "") == "BadRequest_EntityNotFound");

  kl->mgmt("", ".create database Gamma volatile");
  kl->mgmt("Gamma", ".create table T1 (a:string)");
  kl->createTableWithStreaming("Gamma", "T2", "(a:string)");
  CHECK(consumedRecords(kl->ingest("Gamma", "T2", "csv", "x\ny\n")) == 2);
  CHECK(kl->count("Gamma", "T2") == 2);
  // Tables are per database.
  const auto beta_t2 = kl->queryRaw("Beta", "T2 | count");
  CHECK(beta_t2.status != 200);
}

TEST_CASE("kusto-local: .create table, .show tables, schema, .create-merge and .drop table") {
  auto kl = KustoLocal::start({"--database", "Db"});
  const auto created =
      kl->mgmt("Db", ".create table Events (Name:string, Value:long, At:datetime)");
  CHECK(v1Column(created, "TableName") == std::vector<json>{"Events"});

  // Same name again: succeeds and changes nothing, even with another schema.
  kl->mgmt("Db", ".create table Events (Other:string)");
  const auto schema = kl->mgmt("Db", ".show table Events schema as json");
  const auto schema_text = v1Column(schema, "Schema").at(0).get<std::string>();
  const json schema_json = json::parse(schema_text);
  INFO(schema_text);
  REQUIRE(schema_json.contains("OrderedColumns"));
  const auto& cols = schema_json["OrderedColumns"];
  REQUIRE(cols.size() == 3);
  CHECK(cols[0]["Name"] == "Name");
  CHECK(cols[1]["Name"] == "Value");
  CHECK(cols[2]["Name"] == "At");
  CHECK(cols[1]["CslType"] == "long");

  kl->mgmt("Db", ".create table Other (x:int)");
  const auto tables = v1Column(kl->mgmt("Db", ".show tables"), "TableName");
  CHECK(tables.size() == 2);
  CHECK(contains(tables, "Events"));
  CHECK(contains(tables, "Other"));

  kl->mgmt("Db", ".create-merge table Events (Name:string, Extra:dynamic)");
  const auto merged =
      json::parse(v1Column(kl->mgmt("Db", ".show table Events schema as json"), "Schema")
                      .at(0)
                      .get<std::string>());
  REQUIRE(merged["OrderedColumns"].size() == 4);
  CHECK(merged["OrderedColumns"][3]["Name"] == "Extra");
  CHECK(merged["OrderedColumns"][3]["CslType"] == "dynamic");
  // A type conflict fails.
  CHECK(kl->mgmtRaw("Db", ".create-merge table Events (Value:string)").status >= 400);

  kl->mgmt("Db", ".drop table Other");
  const auto after = v1Column(kl->mgmt("Db", ".show tables"), "TableName");
  CHECK(after == std::vector<json>{"Events"});
  const auto gone = kl->queryRaw("Db", "Other | count");
  CHECK(gone.status >= 400);

  // A malformed command is a 400 with a OneApi body.
  const auto bad = kl->mgmtRaw("Db", ".create table (");
  CHECK(bad.status == 400);
  CHECK(parseJson(bad).contains("error"));
}

TEST_CASE("kusto-local: ingestion mappings are created, shown and dropped") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->mgmt("Db", ".create table T (Name:string, Value:long)");
  kl->mgmt("Db", R"(.create table T ingestion csv mapping "csv1" '[)"
                 R"({"Column":"Name","Properties":{"Ordinal":"1"}},)"
                 R"({"Column":"Value","Properties":{"Ordinal":"0"}}]')");
  kl->mgmt("Db", R"(.create table T ingestion json mapping "json1" '[)"
                 R"({"column":"Name","Properties":{"Path":"$.n"}},)"
                 R"({"column":"Value","Properties":{"Path":"$.v"}}]')");

  const auto all = kl->mgmt("Db", ".show table T ingestion mappings");
  const auto names = v1Column(all, "Name");
  CHECK(names.size() == 2);
  CHECK(contains(names, "csv1"));
  CHECK(contains(names, "json1"));
  std::vector<std::string> kinds;
  for (const auto& k : v1Column(all, "Kind")) {
    std::string lower = k.get<std::string>();
    for (auto& ch : lower) {
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    kinds.push_back(lower);
  }
  std::sort(kinds.begin(), kinds.end());
  CHECK(kinds == std::vector<std::string>{"csv", "json"});

  const auto json_only = kl->mgmt("Db", ".show table T ingestion json mappings");
  CHECK(v1Column(json_only, "Name") == std::vector<json>{"json1"});
  const auto mapping_text = v1Column(json_only, "Mapping").at(0).get<std::string>();
  CHECK(mapping_text.find("$.n") != std::string::npos);

  // create-or-alter replaces it.
  kl->mgmt("Db", R"(.create-or-alter table T ingestion json mapping "json1" '[)"
                 R"({"column":"Name","Properties":{"Path":"$.name"}}]')");
  const auto altered = kl->mgmt("Db", ".show table T ingestion json mappings");
  CHECK(v1Column(altered, "Mapping").at(0).get<std::string>().find("$.name") != std::string::npos);

  kl->mgmt("Db", R"(.drop table T ingestion json mapping "json1")");
  const auto after = kl->mgmt("Db", ".show table T ingestion mappings");
  CHECK(v1Column(after, "Name") == std::vector<json>{"csv1"});
}

TEST_CASE("kusto-local: streaming policy commands on tables and databases") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->mgmt("Db", ".create table T (a:string)");

  const auto none = kl->mgmt("Db", ".show table T policy streamingingestion");
  REQUIRE(v1Column(none, "Policy").size() == 1);
  CHECK(v1Column(none, "Policy")[0].is_null());

  const auto enabled = kl->mgmt("Db", ".alter table T policy streamingingestion enable");
  const auto policy = json::parse(v1Column(enabled, "Policy").at(0).get<std::string>());
  CHECK(policy["IsEnabled"] == true);
  CHECK(v1Column(enabled, "PolicyName").at(0).get<std::string>().find("StreamingIngestion") !=
        std::string::npos);

  kl->mgmt("Db", R"(.alter table T policy streamingingestion '{"IsEnabled": false}')");
  const auto shown = kl->mgmt("Db", ".show table T policy streamingingestion");
  CHECK(json::parse(v1Column(shown, "Policy").at(0).get<std::string>())["IsEnabled"] == false);

  kl->mgmt("Db", R"(.alter-merge table T policy streamingingestion '{"IsEnabled": true}')");
  const auto merged = kl->mgmt("Db", ".show table T policy streamingingestion");
  CHECK(json::parse(v1Column(merged, "Policy").at(0).get<std::string>())["IsEnabled"] == true);

  kl->mgmt("Db", ".delete table T policy streamingingestion");
  CHECK(v1Column(kl->mgmt("Db", ".show table T policy streamingingestion"), "Policy")
            .at(0)
            .is_null());

  kl->mgmt("Db", ".alter database Db policy streamingingestion enable");
  const auto db_policy = kl->mgmt("Db", ".show database Db policy streamingingestion");
  CHECK(json::parse(v1Column(db_policy, "Policy").at(0).get<std::string>())["IsEnabled"] == true);
}

TEST_CASE("kusto-local: mgmt accepts properties as a JSON string or an object") {
  auto kl = KustoLocal::start({"--database", "Db"});
  for (const json& props :
       {json(R"({"Options":{"servertimeout":"00:04:00"},"Parameters":{}})"),
        json::parse(R"({"Options":{"servertimeout":"00:04:00"},"Parameters":{}})")}) {
    const json body = {{"db", "Db"}, {"csl", ".show tables"}, {"properties", props}};
    const auto r = httpRequest("POST", kl->url() + "/v1/rest/mgmt", body.dump(),
                               {"Content-Type: application/json; charset=utf-8"});
    INFO(props.dump() << " -> " << r.body);
    CHECK(r.status == 200);
  }
}
