// Unit tests of the kusto output's pure auth helpers: token responses (expires_in as a number or
// a string, missing fields), error summaries without secrets, the form body, and the refresh
// schedule computed against fixed (fake) times.
#include <doctest/doctest.h>

#include "plugins/outputs/kusto/kusto_auth.h"

using namespace ingestd;
using namespace ingestd::outputs::kusto;
using namespace std::chrono_literals;

TEST_CASE("kusto auth: token response with expires_in as a number or a string") {
  auto n = parseTokenResponse(
      R"({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0"})");
  REQUIRE(n.isOk());
  CHECK(n->access_token == "eyJ0");
  CHECK(n->expires_in == 3599s);
  CHECK_FALSE(n->expires_in_missing);

  auto s = parseTokenResponse(R"({"access_token":"abc","expires_in":"3600","expires_on":"1"})");
  REQUIRE(s.isOk());
  CHECK(s->expires_in == 3600s);

  auto f = parseTokenResponse(R"({"access_token":"abc","expires_in":120.0})");
  REQUIRE(f.isOk());
  CHECK(f->expires_in == 120s);
}

TEST_CASE("kusto auth: token response with missing or bad fields") {
  auto no_exp = parseTokenResponse(R"({"access_token":"abc"})");
  REQUIRE(no_exp.isOk());
  CHECK(no_exp->expires_in_missing);
  CHECK(no_exp->expires_in == 3600s);

  auto no_token = parseTokenResponse(R"({"expires_in":3600})");
  REQUIRE_FALSE(no_token.isOk());
  CHECK(no_token.error().message == "the token endpoint's answer has no access_token");

  CHECK_FALSE(parseTokenResponse(R"({"access_token":"","expires_in":3600})").isOk());
  CHECK_FALSE(parseTokenResponse(R"({"access_token":5,"expires_in":3600})").isOk());
  auto bad_exp = parseTokenResponse(R"({"access_token":"secret-token","expires_in":"soon"})");
  REQUIRE_FALSE(bad_exp.isOk());
  CHECK(bad_exp.error().message ==
        "the token endpoint's expires_in is not a positive number of seconds");
  CHECK(bad_exp.error().message.find("secret-token") == std::string::npos);
  CHECK_FALSE(parseTokenResponse(R"({"access_token":"a","expires_in":0})").isOk());
  CHECK_FALSE(parseTokenResponse(R"({"access_token":"a","expires_in":-5})").isOk());
  auto not_json = parseTokenResponse("<html>");
  REQUIRE_FALSE(not_json.isOk());
  CHECK(not_json.error().message == "the token endpoint did not answer with a JSON object");
}

TEST_CASE("kusto auth: error summary of a failed token request") {
  CHECK(
      tokenErrorSummary(
          401,
          R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1"})") ==
      "HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided.");
  CHECK(tokenErrorSummary(500, "oops") == "HTTP 500");
  CHECK(tokenErrorSummary(0, "") == "no response");
}

TEST_CASE("kusto auth: token endpoint and form body") {
  CHECK(tokenEndpoint("https://login.microsoftonline.com", "contoso.onmicrosoft.com") ==
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  CHECK(tokenEndpoint("http://127.0.0.1:5000/", "t") ==
        "http://127.0.0.1:5000/t/oauth2/v2.0/token");
  CHECK(clientCredentialsBody("app-id", "s3cr+t/=&", "https://c.kusto.windows.net/.default") ==
        "grant_type=client_credentials&client_id=app-id&client_secret=s3cr%2Bt%2F%3D%26&"
        "scope=https%3A%2F%2Fc.kusto.windows.net%2F.default");
  CHECK(trimTokenText("  abc.def \r\n") == "abc.def");
  CHECK(trimTokenText("\n\n") == "");
}

TEST_CASE("kusto auth: refresh schedule") {
  const Clock::Monotonic t0{std::chrono::hours(1000)};
  // One hour: refresh at half-life (30 min < 55 min), usable until 30 s before expiry.
  auto h = scheduleToken(t0, 3600s);
  CHECK(h.refresh_at - t0 == 1800s);
  CHECK(h.usable_until - t0 == 3570s);
  // 24 h: half-life 12 h.
  CHECK(scheduleToken(t0, 86400s).refresh_at - t0 == 43200s);
  // 10 min: min(5 min, 5 min).
  CHECK(scheduleToken(t0, 600s).refresh_at - t0 == 300s);
  // 8 min: expires_in - 5 min = 3 min is earlier than half-life (4 min).
  CHECK(scheduleToken(t0, 480s).refresh_at - t0 == 180s);
  // Short-lived (2 min): 5 min early would be in the past, so half-life.
  auto s = scheduleToken(t0, 120s);
  CHECK(s.refresh_at - t0 == 60s);
  CHECK(s.usable_until - t0 == 90s);
  // Tiny: at least 1 s, and usable for half its life.
  auto tiny = scheduleToken(t0, 1s);
  CHECK(tiny.refresh_at - t0 == 1s);
  CHECK(tiny.usable_until - t0 == 1s);
  CHECK(scheduleToken(t0, 10s).usable_until - t0 == 5s);
}

TEST_CASE("kusto auth: failed refreshes back off from 5 s to 2 min") {
  CHECK(refreshRetryDelay(0) == 5000ms);
  CHECK(refreshRetryDelay(1) == 5000ms);
  CHECK(refreshRetryDelay(2) == 10000ms);
  CHECK(refreshRetryDelay(3) == 20000ms);
  CHECK(refreshRetryDelay(5) == 80000ms);
  CHECK(refreshRetryDelay(6) == 120000ms);
  CHECK(refreshRetryDelay(100) == 120000ms);
}

TEST_CASE("kusto auth: an error summary never carries an echoed secret, not even cut in half") {
  const std::string secret = "Sup3r/Secr3t+Value";
  const std::vector<std::string_view> secrets{secret};
  // The endpoint echoes the form body (percent-encoded) and the decoded secret.
  const std::string body =
      R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret. )"
      R"(Request: grant_type=client_credentials&client_id=c&client_secret=Sup3r%2FSecr3t%2BValue)"
      R"(&scope=x decoded: Sup3r/Secr3t+Value\r\nTrace ID: 1"})";
  const std::string s = tokenErrorSummary(401, body, secrets);
  CHECK(s.find("HTTP 401: invalid_client: AADSTS7000215: Invalid client secret.") == 0);
  CHECK(s.find("client_secret=***&scope=x decoded: ***") != std::string::npos);
  CHECK(s.find("Sup3r") == std::string::npos);
  CHECK(s.find("Trace ID") == std::string::npos);
  // The secret straddles the 300-character cut: scrubbing after cutting would leave its start.
  const std::string cut = R"({"error":"invalid_client","error_description":")" +
                          std::string(290, 'x') + secret + R"("})";
  const std::string c = tokenErrorSummary(400, cut, secrets);
  CHECK(c.find("Sup3r") == std::string::npos);
  CHECK(c.find(std::string(290, 'x') + "***") != std::string::npos);
  // The error code itself is scrubbed too.
  CHECK(tokenErrorSummary(400, R"({"error":"Sup3r/Secr3t+Value"})", secrets) == "HTTP 400: ***");
}
