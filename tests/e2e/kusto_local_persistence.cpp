// kusto-local e2e: --data-dir keeps databases, tables, mappings, policies and rows across a
// SIGTERM and restart; without it a restart starts empty.

#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "tests/e2e/kusto_local_test_util.h"
#include "tests/support/kusto_local.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
using ingestd::test::KustoLocal;
using ingestd::test::TempDir;
using namespace ingestd::test::kl;

TEST_CASE("kusto-local --data-dir: rows, mappings and policies survive a restart") {
  TempDir dir;
  {
    auto kl = KustoLocal::start({"--data-dir", dir.path()});
    kl->mgmt("", ".create database Persist volatile");
    kl->createTableWithStreaming("Persist", "T", kSchema);
    kl->mgmt("Persist", R"(.create table T ingestion json mapping "jm" '[)"
                        R"({"column":"Name","Properties":{"Path":"$.n"}},)"
                        R"({"column":"Value","Properties":{"Path":"$.v"}}]')");
    CHECK(consumedRecords(kl->ingest("Persist", "T", "csv", csvRows("p", 0, 12))) == 12);
    CHECK(consumedRecords(kl->ingest("Persist", "T", "json", R"({"n":"j","v":99})", "jm")) == 1);
    CHECK(kl->count("Persist", "T") == 13);
    CHECK(kl->stop() == 0);
  }
  {
    auto kl = KustoLocal::start({"--data-dir", dir.path()});
    CHECK(kl->count("Persist", "T") == 13);
    CHECK(kl->rows("Persist", R"(T | where Name == "p-11" | project Value, Flag)") ==
          std::vector<json>{json::array({11, false})});
    CHECK(kl->rows("Persist", R"(T | where Name == "j" | project Value)") ==
          std::vector<json>{json::array({99})});
    // The mapping and the streaming policy came back too.
    CHECK(consumedRecords(kl->ingest("Persist", "T", "json", R"({"n":"k","v":1})", "jm")) == 1);
    CHECK(kl->count("Persist", "T") == 14);
    CHECK(kl->stop() == 0);
  }
  {
    auto kl = KustoLocal::start({"--data-dir", dir.path()});
    CHECK(kl->count("Persist", "T") == 14);
  }
}

TEST_CASE("kusto-local without --data-dir: a restart starts empty") {
  {
    auto kl = KustoLocal::start({"--database", "Db"});
    kl->createTableWithStreaming("Db", "T", kSchema);
    CHECK(consumedRecords(kl->ingest("Db", "T", "csv", csvRows("m", 0, 3))) == 3);
    CHECK(kl->stop() == 0);
  }
  auto kl = KustoLocal::start({"--database", "Db"});
  CHECK(kl->queryRaw("Db", "T | count").status >= 400);
}
