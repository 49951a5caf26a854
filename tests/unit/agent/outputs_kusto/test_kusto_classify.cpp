// Unit tests of the kusto output's response classification: every status class, OneApi bodies
// (permanent true/false/missing, malformed, empty), Retry-After in seconds and as a date.
#include <doctest/doctest.h>

#include <curl/curl.h>

#include "plugins/outputs/kusto/kusto_classify.h"

using namespace ingestd;
using namespace ingestd::outputs::kusto;
using namespace std::chrono_literals;

namespace {

ClassifyContext ctx() {
  ClassifyContext c;
  c.database = "Logs";
  c.table = "Nginx";
  c.mapping = "nginx_v1";
  c.format = "multijson";
  c.max_retry_after = 60s;
  return c;
}

// 2024-01-01T00:00:00Z
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1704067200));

SendOutcome classify(long status, std::string_view body = {},
                     const std::map<std::string, std::string>& headers = {}) {
  ResponseView r;
  r.status = status;
  r.body = body;
  r.headers = &headers;
  return classifyResponse(r, ctx(), kNow);
}

std::string oneApi(std::string_view code, std::string_view permanent,
                   std::string_view message = "detail text") {
  std::string perm = permanent.empty() ? "" : ", \"@permanent\": " + std::string(permanent);
  return "{\"error\": {\"code\": \"" + std::string(code) +
         "\", \"message\": \"generic\", \"@type\": \"Kusto.X\", \"@message\": \"" +
         std::string(message) + "\"" + perm + "}}";
}

}  // namespace

TEST_CASE("kusto classify: 200 is delivered") {
  auto o = classify(200, R"({"Tables":[]})");
  CHECK(o.delivery == Delivery::kDelivered);
  CHECK(o.http_status == 200);
  CHECK(o.error_code.empty());
}

TEST_CASE("kusto classify: other 2xx are retried (only 200 acknowledges)") {
  auto o = classify(204);
  CHECK(o.delivery == Delivery::kRetry);
  CHECK(o.error_code == "UnexpectedStatus");
}

TEST_CASE("kusto classify: no response is retried with a transport error code") {
  ResponseView r;
  r.status = 0;
  r.curl_code = CURLE_OPERATION_TIMEDOUT;
  r.transport_error = "Operation timed out after 630000 milliseconds";
  auto o = classifyResponse(r, ctx(), kNow);
  CHECK(o.delivery == Delivery::kRetry);
  CHECK(o.http_status == 0);
  CHECK(o.error_code == "Timeout");
  CHECK(o.message ==
        "No response from the cluster: Operation timed out after 630000 milliseconds.");
  CHECK_FALSE(o.retry_after.has_value());
  CHECK(transportErrorCode(CURLE_COULDNT_CONNECT) == "ConnectFailed");
  CHECK(transportErrorCode(CURLE_COULDNT_RESOLVE_HOST) == "ResolveFailed");
  CHECK(transportErrorCode(CURLE_PEER_FAILED_VERIFICATION) == "TlsError");
  CHECK(transportErrorCode(CURLE_GOT_NOTHING) == "ConnectionDropped");
  CHECK(transportErrorCode(CURLE_RECV_ERROR) == "ConnectionDropped");
  CHECK(transportErrorCode(CURLE_OUT_OF_MEMORY) == "NetworkError");
}

TEST_CASE("kusto classify: 408, 429 and 5xx are retried") {
  for (long s : {408L, 429L, 500L, 502L, 503L, 504L, 520L}) {
    CAPTURE(s);
    CHECK(classify(s).delivery == Delivery::kRetry);
    CHECK(classify(s, oneApi("General_InternalServerError", "false")).delivery == Delivery::kRetry);
    CHECK(classify(s, "<html>gateway</html>").delivery == Delivery::kRetry);
  }
  CHECK(classify(429).error_code == "Throttled");
  CHECK(classify(503).error_code == "ServerError");
  CHECK(classify(408).error_code == "RequestTimeout");
  CHECK(classify(503).message == "Service unavailable.");
  // 429 is always transient, whatever the body claims.
  CHECK(classify(429, oneApi("Throttling", "true")).delivery == Delivery::kRetry);
}

TEST_CASE("kusto classify: 5xx with @permanent true is rejected") {
  auto o = classify(500, oneApi("General_InternalServerError", "true",
                                "Database metadata is unavailable."));
  CHECK(o.delivery == Delivery::kRejected);
  CHECK(o.error_code == "General_InternalServerError");
  CHECK(o.message ==
        "Internal server error. The service said: General_InternalServerError: "
        "Database metadata is unavailable.");
}

TEST_CASE("kusto classify: 4xx follows @permanent, missing flag means permanent") {
  auto perm = classify(400, oneApi("Stream_WrongNumberOfFields", "true"));
  CHECK(perm.delivery == Delivery::kRejected);
  CHECK(perm.error_code == "Stream_WrongNumberOfFields");
  auto transient = classify(400, oneApi("General_TransientSchemaMismatch", "false"));
  CHECK(transient.delivery == Delivery::kRetry);
  auto missing = classify(400, oneApi("General_BadRequest", ""));
  CHECK(missing.delivery == Delivery::kRejected);
  auto not_bool = classify(400, oneApi("General_BadRequest", "\"false\""));
  CHECK(not_bool.delivery == Delivery::kRejected);
  auto empty = classify(400, "");
  CHECK(empty.delivery == Delivery::kRejected);
  CHECK(empty.error_code == "BadRequest");
  CHECK(empty.message == "Bad request.");
  auto malformed = classify(400, "{\"error\": ");
  CHECK(malformed.delivery == Delivery::kRejected);
  CHECK(malformed.message == "Bad request. The service said: {\"error\":.");
  auto other = classify(422, "");
  CHECK(other.delivery == Delivery::kRejected);
  CHECK(other.error_code == "Http422");
  // A body that is JSON but not a OneApi error.
  CHECK(classify(400, "[1,2]").delivery == Delivery::kRejected);
  CHECK(classify(400, R"({"error": "text"})").delivery == Delivery::kRejected);
}

TEST_CASE("kusto classify: well-known error codes get an explanation") {
  auto policy = classify(400, oneApi("BadRequest_StreamingIngestionPolicyNotEnabled", "true",
                                     "Streaming ingestion policy is not enabled"));
  CHECK(policy.delivery == Delivery::kRejected);
  CHECK(policy.message ==
        "Streaming ingestion is not enabled on table 'Nginx': run .alter table Nginx policy "
        "streamingingestion enable (it can take a few minutes to apply). The service said: "
        "BadRequest_StreamingIngestionPolicyNotEnabled: Streaming ingestion policy is not "
        "enabled.");
  auto mapping = classify(400, oneApi("BadRequest_MappingReferenceWasNotFound", "true", "x"));
  CHECK(mapping.message.starts_with(
      "Ingestion mapping 'nginx_v1' was not found on table 'Nginx': create it with .create "
      "table Nginx ingestion json mapping \"nginx_v1\" '[...]'. The service said: "));
  auto table = classify(400, oneApi("BadRequest_TableNotExist", "true", "x"));
  CHECK(table.message.starts_with("Table 'Nginx' does not exist in database 'Logs'"));
  auto db = classify(400, oneApi("BadRequest_DatabaseNotExist", "true", "x"));
  CHECK(db.message.starts_with("Database 'Logs' does not exist on the cluster."));
  auto big = classify(400, oneApi("Stream_InputStreamTooLarge", "true", "x"));
  CHECK(big.delivery == Delivery::kRejected);
  CHECK(big.message.starts_with("The block is larger than the service accepts"));
}

TEST_CASE("kusto classify: @message is preferred over message") {
  auto e = parseOneApiError(oneApi("C", "true", "detailed"));
  REQUIRE(e.has_value());
  CHECK(e->code == "C");
  CHECK(e->message == "detailed");
  CHECK(e->permanent == true);
  auto plain = parseOneApiError(R"({"error":{"code":"X","message":"only this"}})");
  REQUIRE(plain.has_value());
  CHECK(plain->message == "only this");
  CHECK_FALSE(plain->permanent.has_value());
  CHECK_FALSE(parseOneApiError("").has_value());
  CHECK_FALSE(parseOneApiError("not json").has_value());
  CHECK_FALSE(parseOneApiError(R"({"Tables":[]})").has_value());
}

TEST_CASE("kusto classify: 401 and 403 are retried with a clear message") {
  auto u = classify(401);
  CHECK(u.delivery == Delivery::kRetry);
  CHECK(u.error_code == "Unauthorized");
  CHECK(u.message.starts_with("The cluster rejected the credentials even after a token refresh"));
  auto f = classify(403, oneApi("Forbidden", "true", "Principal is not authorized"));
  CHECK(f.delivery == Delivery::kRetry);
  CHECK(f.error_code == "Forbidden");
  CHECK(
      f.message.starts_with("The principal may not ingest into 'Logs.Nginx': grant it the "
                            "Ingestor role on database 'Logs'"));
}

TEST_CASE("kusto classify: 404 is retried and says streaming may be off") {
  auto o = classify(404);
  CHECK(o.delivery == Delivery::kRetry);
  CHECK(o.error_code == "NotFound");
  CHECK(o.message ==
        "Streaming ingestion endpoint not found: is streaming ingestion enabled on the cluster, "
        "and is cluster the engine URL (not the ingest- one)?");
  auto with_body = classify(404, oneApi("BadRequest_TableNotExist", "true", "x"));
  CHECK(with_body.delivery == Delivery::kRetry);
  CHECK(with_body.error_code == "BadRequest_TableNotExist");
}

TEST_CASE("kusto classify: 413 is rejected") {
  auto o = classify(413);
  CHECK(o.delivery == Delivery::kRejected);
  CHECK(o.error_code == "PayloadTooLarge");
  auto coded = classify(413, oneApi("Stream_InputStreamTooLarge", "true", "too big"));
  CHECK(coded.delivery == Delivery::kRejected);
  CHECK(coded.error_code == "Stream_InputStreamTooLarge");
}

TEST_CASE("kusto classify: 3xx is retried (redirects are not followed)") {
  auto o = classify(307, "", {{"location", "https://elsewhere/"}});
  CHECK(o.delivery == Delivery::kRetry);
  CHECK(o.error_code == "Redirect");
  CHECK(o.message.find("https://elsewhere/") != std::string::npos);
}

TEST_CASE("kusto classify: Retry-After in seconds and as an HTTP date") {
  auto secs = classify(429, "", {{"retry-after", "7"}});
  REQUIRE(secs.retry_after.has_value());
  CHECK(*secs.retry_after == 7000ms);
  auto capped = classify(503, "", {{"retry-after", "3600"}});
  CHECK(*capped.retry_after == 60000ms);
  auto date = classify(429, "", {{"retry-after", "Mon, 01 Jan 2024 00:00:12 GMT"}});
  REQUIRE(date.retry_after.has_value());
  CHECK(*date.retry_after == 12000ms);
  auto past = classify(429, "", {{"retry-after", "Sun, 31 Dec 2023 23:59:00 GMT"}});
  CHECK(*past.retry_after == 0ms);
  auto bad = classify(429, "", {{"retry-after", "soon"}});
  CHECK_FALSE(bad.retry_after.has_value());
  auto none = classify(429);
  CHECK_FALSE(none.retry_after.has_value());
  // Not on rejected outcomes.
  auto rejected = classify(400, "", {{"retry-after", "5"}});
  CHECK_FALSE(rejected.retry_after.has_value());
}

TEST_CASE("kusto classify: parseRetryAfter edge cases") {
  CHECK(parseRetryAfter(" 0 ", kNow, 60s) == 0ms);
  CHECK(parseRetryAfter("99999999999999", kNow, 60s) == 60s);
  CHECK(parseRetryAfter("5", kNow, 2s) == 2s);
  CHECK_FALSE(parseRetryAfter("", kNow, 60s).has_value());
  CHECK_FALSE(parseRetryAfter("-3", kNow, 60s).has_value());
  CHECK_FALSE(parseRetryAfter("1.5", kNow, 60s).has_value());
  CHECK_FALSE(parseRetryAfter("Mon, 32 Jan 2024 00:00:12 GMT", kNow, 60s).has_value());
  CHECK_FALSE(parseRetryAfter("Mon, 01 Foo 2024 00:00:12 GMT", kNow, 60s).has_value());
  CHECK_FALSE(parseRetryAfter("Mon, 01 Jan 2024 00:00:12 UTC", kNow, 60s).has_value());
  CHECK(parseRetryAfter("Monday, 01 Jan 2024 00:00:30 GMT", kNow, 60s) == 30s);
}

TEST_CASE("kusto classify: service text is one bounded line") {
  std::string long_msg(2000, 'x');
  auto o = classify(400, oneApi("General_BadRequest", "true", long_msg));
  CHECK(o.message.size() < 700);
  auto nl = classify(400, "line1\nline2");
  CHECK(nl.message.find('\n') == std::string::npos);
}
