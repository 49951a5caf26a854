// kusto-local e2e: what streaming ingestion enforces, each with its HTTP status, OneApi code and
// @permanent flag: missing database/table, streaming policy (table overrides database), missing
// mapping, size limits, malformed gzip, malformed records and wrong CSV field counts.

#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "tests/e2e/kusto_local_test_util.h"
#include "tests/support/http_client.h"
#include "tests/support/kusto_local.h"

using namespace std::chrono_literals;
using ingestd::test::gzipCompress;
using ingestd::test::httpRequest;
using ingestd::test::KustoLocal;
using namespace ingestd::test::kl;

TEST_CASE("kusto-local: ingest into a missing database or table is a permanent error") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  checkOneApiError(kl->ingest("Nope", "T", "csv", "a,1,true\n"), 400, "BadRequest_DatabaseNotExist",
                   true);
  checkOneApiError(kl->ingest("Db", "Nope", "csv", "a,1,true\n"), 400, "BadRequest_TableNotExist",
                   true);
  CHECK(kl->count("Db", "T") == 0);
}

TEST_CASE(
    "kusto-local: streaming policy must be enabled, the table policy overrides the database") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->mgmt("Db", ".create table T (Name:string, Value:long, Flag:bool)");
  const std::string row = "a,1,true\n";

  // No policy anywhere.
  checkOneApiError(kl->ingest("Db", "T", "csv", row), 400,
                   "BadRequest_StreamingIngestionPolicyNotEnabled", true);
  // Database enabled, table unset: allowed.
  kl->mgmt("Db", ".alter database Db policy streamingingestion enable");
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", row)) == 1);
  // Table disabled overrides the enabled database.
  kl->mgmt("Db", ".alter table T policy streamingingestion disable");
  checkOneApiError(kl->ingest("Db", "T", "csv", row), 400,
                   "BadRequest_StreamingIngestionPolicyNotEnabled", true);
  // Database disabled, table enabled: allowed.
  kl->mgmt("Db", ".alter database Db policy streamingingestion disable");
  kl->mgmt("Db", ".alter table T policy streamingingestion enable");
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", row)) == 1);
  // Table policy deleted, database disabled: refused again.
  kl->mgmt("Db", ".delete table T policy streamingingestion");
  checkOneApiError(kl->ingest("Db", "T", "csv", row), 400,
                   "BadRequest_StreamingIngestionPolicyNotEnabled", true);
  CHECK(kl->count("Db", "T") == 2);
}

TEST_CASE("kusto-local: a mappingName that does not exist is refused") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  kl->mgmt("Db", R"(.create table T ingestion csv mapping "csvmap" '[)"
                 R"({"Column":"Name","Properties":{"Ordinal":"0"}}]')");
  checkOneApiError(kl->ingest("Db", "T", "json", R"({"Name":"x"})", "nomap"), 400,
                   "BadRequest_MappingReferenceWasNotFound", true);
  checkOneApiError(kl->ingest("Db", "T", "csv", "x\n", "nomap"), 400,
                   "BadRequest_MappingReferenceWasNotFound", true);
  // A mapping of another kind does not count (csv mapping used for json).
  const auto wrong_kind = kl->ingest("Db", "T", "json", R"({"Name":"x"})", "csvmap");
  CHECK(wrong_kind.status == 400);
  CHECK(parseJson(wrong_kind)["error"]["@permanent"] == true);
  CHECK(kl->count("Db", "T") == 0);
  // The existing csv mapping works.
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", "x\n", "csvmap")) == 1);
}

TEST_CASE("kusto-local: data over 4 MiB after decompression is 413 Stream_InputStreamTooLarge") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  std::string big;
  const std::string line =
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,1,true\n";
  while (big.size() <= std::size_t{4} * 1024 * 1024) {
    big += line;
  }
  // Small on the wire (gzip), too large once decompressed.
  const auto gz = kl->ingest("Db", "T", "csv", big, "", {}, true);
  checkOneApiError(gz, 413, "Stream_InputStreamTooLarge", true);
  // And plain.
  checkOneApiError(kl->ingest("Db", "T", "csv", big), 413, "Stream_InputStreamTooLarge", true);
  // Just under the limit is accepted.
  std::string fits;
  while (fits.size() + line.size() <= std::size_t{4} * 1024 * 1024) {
    fits += line;
  }
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", fits, "", {}, true)) ==
        static_cast<std::int64_t>(fits.size() / line.size()));
  CHECK(kl->count("Db", "T") == static_cast<std::int64_t>(fits.size() / line.size()));
}

TEST_CASE("kusto-local: a request body over 10 MiB is refused with 413") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  const std::string body(10u * 1024 * 1024 + 1, 'x');
  for (bool chunked : {false, true}) {
    CAPTURE(chunked);
    const auto r = kl->ingest("Db", "T", "csv", body, "", {}, false, chunked);
    INFO("error: " << r.error << " body: " << r.body.substr(0, 300));
    checkOneApiError(r, 413, "BadRequest_FileTooLarge", true);
  }
  // With Expect: 100-continue the server can refuse before the body is sent.
  const auto early = kl->ingest("Db", "T", "csv", body, "", {"Expect: 100-continue"});
  CHECK(early.status == 413);
  CHECK_FALSE(early.got_continue);
  // The server is still fine afterwards.
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", "a,1,true\n")) == 1);
}

TEST_CASE("kusto-local: malformed gzip is a permanent 4xx") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  const std::string good = gzipCompress(csvRows("g", 0, 100));
  for (const std::string& bad : {good.substr(0, good.size() / 2),  // truncated
                                 std::string("\x1f\x8b\x08\x00garbage-garbage-garbage", 26)}) {
    const auto r =
        httpRequest("POST", kl->ingestUrl("Db", "T", "csv"), bad, {"Content-Encoding: gzip"});
    INFO("body: " << r.body);
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
    const auto j = parseJson(r);
    CHECK(j["error"]["@permanent"] == true);
    CHECK_FALSE(j["error"].value("code", "").empty());
  }
  CHECK(kl->count("Db", "T") == 0);
}

TEST_CASE("kusto-local: malformed JSON records and wrong CSV field counts are permanent") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);

  // Wrong number of CSV fields (no mapping: one field per column).
  const auto fields = kl->ingest("Db", "T", "csv", "a,1,true\nb,2\n");
  checkOneApiError(fields, 400, "Stream_WrongNumberOfFields", true);
  const auto too_many = kl->ingest("Db", "T", "csv", "a,1,true,extra\n");
  checkOneApiError(too_many, 400, "Stream_WrongNumberOfFields", true);

  // Broken JSON line, a JSON line that is not an object, broken multijson.
  checkOneApiError(kl->ingest("Db", "T", "json", "{\"Name\":\"a\"}\n{\"Name\": \n"), 400,
                   "BadRequest_NoRecordsOrWrongFormat", true);
  checkOneApiError(kl->ingest("Db", "T", "json", "{\"Name\":\"a\"}\n[1,2]\n"), 400,
                   "BadRequest_NoRecordsOrWrongFormat", true);
  checkOneApiError(kl->ingest("Db", "T", "multijson", "[{\"Name\":\"a\"},"), 400,
                   "BadRequest_NoRecordsOrWrongFormat", true);
  // An unterminated quote.
  checkOneApiError(kl->ingest("Db", "T", "csv", "a,1,true\n\"open,2,true\n"), 400,
                   "Stream_ClosingQuoteMissing", true);
  // Nothing to ingest.
  checkOneApiError(kl->ingest("Db", "T", "csv", ""), 400, "Stream_NoDataToIngest", true);
  checkOneApiError(kl->ingest("Db", "T", "csv", "\n\r\n\n"), 400, "Stream_NoDataToIngest", true);
  checkOneApiError(kl->ingest("Db", "T", "multijson", "[]"), 400, "Stream_NoDataToIngest", true);
  // Unknown or unsupported stream formats.
  checkOneApiError(kl->ingest("Db", "T", "nosuchformat", "a,1,true\n"), 400,
                   "BadRequest_FormatNotSupported", true);
  checkOneApiError(kl->ingest("Db", "T", "parquet", "PAR1"), 400, "BadRequest_FormatNotSupported",
                   true);

  // A failed request stores nothing (no partial batches).
  CHECK(kl->count("Db", "T") == 0);

  // Like the service, a value that does not convert to the column type becomes null instead
  // of failing the request (Value is long).
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", "a,not-a-number,true\n")) == 1);
  const auto rows = kl->rows("Db", R"(T | where Name == "a")");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][1].is_null());
  CHECK(rows[0][2] == true);
}

TEST_CASE("kusto-local: a missing streamFormat or a wrong method is refused") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  const auto no_format = httpRequest("POST", kl->url() + "/v1/rest/ingest/Db/T", "a,1,true\n");
  CHECK(no_format.status == 400);
  CHECK(parseJson(no_format)["error"]["@permanent"] == true);
  const auto wrong_method = httpRequest("GET", kl->ingestUrl("Db", "T", "csv"));
  CHECK(wrong_method.status >= 400);
  CHECK(kl->count("Db", "T") == 0);
}

TEST_CASE("kusto-local: a mapping naming an unknown column is refused at ingest") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  kl->mgmt("Db", R"(.create table T ingestion json mapping "bad" '[)"
                 R"({"column":"NoSuchColumn","Properties":{"Path":"$.x"}}]')");
  checkOneApiError(kl->ingest("Db", "T", "json", R"({"x":1})", "bad"), 400,
                   "BadRequest_InconsistentMapping", true);
  CHECK(kl->count("Db", "T") == 0);
}

TEST_CASE("kusto-local: a gzip bomb is refused with 413 without inflating it all") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  // 256 MiB of CSV in a few hundred KiB of gzip.
  std::string chunk;
  for (int i = 0; i < 1024 * 1024 / 9; ++i) {
    chunk += "a,1,true\n";
  }
  std::string body;
  const std::string member = gzipCompress(chunk, 9);
  for (int i = 0; i < 256; ++i) {
    body += member;  // concatenated gzip members
  }
  REQUIRE(body.size() < 10u * 1024 * 1024);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r =
      httpRequest("POST", kl->ingestUrl("Db", "T", "csv"), body, {"Content-Encoding: gzip"});
  checkOneApiError(r, 413, "Stream_InputStreamTooLarge", true);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK(kl->count("Db", "T") == 0);
}

TEST_CASE("kusto-local: --strict-json-mapping refuses json without mappingName") {
  auto kl = KustoLocal::start({"--database", "Db", "--strict-json-mapping"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  checkOneApiError(kl->ingest("Db", "T", "json", R"({"Name":"a"})"), 400,
                   "BadRequest_MissingMappingtFailure", true);
  // csv without a mapping is still fine.
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", "a,1,true\n")) == 1);
}

TEST_CASE("kusto-local: failures are listed by .show streamingingestion failures") {
  auto kl = KustoLocal::start({"--database", "Db"});
  kl->createTableWithStreaming("Db", "T", kSchema);
  CHECK(kl->ingest("Db", "T", "csv", "a,1\n").status == 400);
  CHECK(kl->ingest("Db", "T", "csv", "b,2\n").status == 400);
  const auto failures = kl->mgmt("Db", ".show streamingingestion failures");
  const auto codes = v1Column(failures, "ErrorCode");
  REQUIRE(codes.size() == 1);
  CHECK(codes[0] == "Stream_WrongNumberOfFields");
  CHECK(v1Column(failures, "Count").at(0) == 2);
  CHECK(v1Column(failures, "Table").at(0) == "T");
  CHECK(v1Column(failures, "FailureKind").at(0) == "Permanent");
}
