// kusto-local e2e: --auth aad. Kusto endpoints need a bearer token that kusto-local issued and
// that has not expired; tokens come from the Entra-style token endpoint (registered client
// secret) or the IMDS endpoint (Metadata: true); /v1/rest/auth/metadata points at itself.

#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "tests/e2e/kusto_local_test_util.h"
#include "tests/support/http_client.h"
#include "tests/support/kusto_local.h"
#include "tests/support/wait_for.h"

using namespace std::chrono_literals;
using ingestd::test::httpRequest;
using ingestd::test::HttpResponse;
using ingestd::test::KustoLocal;
using ingestd::test::urlEncode;
using ingestd::test::waitFor;
using namespace ingestd::test::kl;

namespace {

HttpResponse requestToken(const KustoLocal& kl, const std::string& id, const std::string& secret) {
  const std::string form = "grant_type=client_credentials&client_id=" + urlEncode(id) +
                           "&client_secret=" + urlEncode(secret) +
                           "&scope=" + urlEncode(kl.url() + "/.default");
  return httpRequest("POST", kl.url() + "/my-tenant/oauth2/v2.0/token", form,
                     {"Content-Type: application/x-www-form-urlencoded"});
}

std::string tokenFor(const KustoLocal& kl, const std::string& id, const std::string& secret) {
  const auto r = requestToken(kl, id, secret);
  INFO("token endpoint: " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  const auto j = json::parse(r.body);
  CHECK(j.value("token_type", "") == "Bearer");
  REQUIRE(j.contains("access_token"));
  return j["access_token"].get<std::string>();
}

}  // namespace

TEST_CASE("kusto-local --auth aad: no token is 401 on ingest, mgmt and query") {
  auto kl = KustoLocal::start({"--database", "Db", "--auth", "aad", "--client", "app:s3cret"});
  const auto ingest = kl->ingest("Db", "T", "csv", "a\n");
  CHECK(ingest.status == 401);
  CHECK(ingest.header("www-authenticate").find("Bearer") != std::string::npos);
  CHECK(kl->mgmtRaw("Db", ".show tables").status == 401);
  CHECK(kl->queryRaw("Db", "T | count").status == 401);
  CHECK(kl->queryRaw("Db", "T | count", false).status == 401);
  // A token kusto-local never issued is refused too.
  kl->setBearerToken("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig");
  CHECK(kl->mgmtRaw("Db", ".show tables").status == 401);
  // Health and auth metadata stay open.
  CHECK(httpRequest("GET", kl->url() + "/healthz").status == 200);
  CHECK(httpRequest("GET", kl->url() + "/v1/rest/auth/metadata").status == 200);
}

TEST_CASE("kusto-local --auth aad: an unauthenticated upload is refused before its body") {
  auto kl = KustoLocal::start({"--database", "Db", "--auth", "aad", "--client", "app:s3cret"});
  const std::string body(std::size_t{64} * 1024, 'x');
  const auto r = httpRequest("POST", kl->ingestUrl("Db", "T", "csv"), body,
                             {"Expect: 100-continue", "x-ms-client-request-id: early;1"});
  CHECK(r.status == 401);
  CHECK_FALSE(r.got_continue);  // no "100 Continue": the client never uploads the body
  CHECK(r.header("x-ms-client-request-id") == "early;1");
  CHECK_FALSE(r.header("x-ms-activity-id").empty());
  // With a token the same request is invited to send its body.
  kl->setBearerToken(tokenFor(*kl, "app", "s3cret"));
  kl->createTableWithStreaming("Db", "T", kSchema);
  const auto ok = httpRequest("POST", kl->ingestUrl("Db", "T", "csv"), csvRows("c", 0, 2),
                              {"Expect: 100-continue",
                               "Authorization: Bearer " + tokenFor(*kl, "app", "s3cret")});
  CHECK(ok.status == 200);
  CHECK(ok.got_continue);
}

TEST_CASE("kusto-local --auth aad: a token for a registered client secret works end to end") {
  auto kl = KustoLocal::start({"--database", "Db", "--auth", "aad", "--client", "app:s3cret"});
  const std::string token = tokenFor(*kl, "app", "s3cret");
  CHECK(token.size() > 20);
  kl->setBearerToken(token);
  kl->createTableWithStreaming("Db", "T", kSchema);
  CHECK(consumedRecords(kl->ingest("Db", "T", "csv", csvRows("auth", 0, 3))) == 3);
  CHECK(kl->count("Db", "T") == 3);
  // Two tokens are different and both valid.
  const std::string second = tokenFor(*kl, "app", "s3cret");
  CHECK(second != token);
  kl->setBearerToken(second);
  CHECK(kl->count("Db", "T") == 3);
}

TEST_CASE("kusto-local --auth aad: wrong secret and unknown clients get no token") {
  auto kl = KustoLocal::start({"--auth", "aad", "--client", "app:s3cret"});
  const auto wrong = requestToken(*kl, "app", "not-the-secret");
  CHECK(wrong.status == 401);
  const auto wj = parseJson(wrong);
  CHECK(wj.value("error", "") == "invalid_client");
  CHECK_FALSE(wj.contains("access_token"));
  const auto unknown = requestToken(*kl, "someone-else", "s3cret");
  CHECK(unknown.status >= 400);
  CHECK_FALSE(parseJson(unknown).contains("access_token"));
  // Wrong grant type.
  const auto grant = httpRequest("POST", kl->url() + "/t/oauth2/v2.0/token",
                                 "grant_type=password&client_id=app&client_secret=s3cret",
                                 {"Content-Type: application/x-www-form-urlencoded"});
  CHECK(grant.status == 400);
}

TEST_CASE("kusto-local --auth aad: an expired token is refused (--token-lifetime 1s)") {
  auto kl = KustoLocal::start(
      {"--database", "Db", "--auth", "aad", "--client", "app:s3cret", "--token-lifetime", "1s"});
  const auto r = requestToken(*kl, "app", "s3cret");
  REQUIRE(r.status == 200);
  const auto j = json::parse(r.body);
  const auto& expires_in = j.at("expires_in");
  CHECK((expires_in == 1 || expires_in == "1"));
  kl->setBearerToken(j.at("access_token").get<std::string>());
  // Valid for about a second, then refused. Poll with the token until it is refused.
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(waitFor([&] { return kl->mgmtRaw("Db", ".show tables").status == 401; }, 10s, 100ms));
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  // A fresh token works again.
  kl->setBearerToken(tokenFor(*kl, "app", "s3cret"));
  CHECK(kl->mgmtRaw("Db", ".show tables").status == 200);
}

TEST_CASE("kusto-local: IMDS endpoint requires Metadata: true and issues usable tokens") {
  auto kl = KustoLocal::start({"--database", "Db", "--auth", "aad"});
  const std::string path =
      "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" + urlEncode(kl->url());
  const auto without = httpRequest("GET", kl->url() + path);
  CHECK(without.status == 400);
  CHECK_FALSE(parseJson(without).contains("access_token"));
  const auto wrong = httpRequest("GET", kl->url() + path, {}, {"Metadata: false"});
  CHECK(wrong.status == 400);

  const auto with = httpRequest("GET", kl->url() + path, {}, {"Metadata: true"});
  REQUIRE(with.status == 200);
  const auto j = json::parse(with.body);
  REQUIRE(j.contains("access_token"));
  CHECK(j.value("token_type", "") == "Bearer");
  kl->setBearerToken(j["access_token"].get<std::string>());
  CHECK(kl->mgmtRaw("Db", ".show tables").status == 200);
}

TEST_CASE("kusto-local: /v1/rest/auth/metadata points the login endpoint at kusto-local") {
  auto kl = KustoLocal::start({"--auth", "aad"});
  const auto r = httpRequest("GET", kl->url() + "/v1/rest/auth/metadata");
  REQUIRE(r.status == 200);
  const auto j = parseJson(r);
  REQUIRE(j.contains("AzureAD"));
  const auto& aad = j["AzureAD"];
  CHECK(aad.value("LoginEndpoint", "").rfind(kl->url(), 0) == 0);
  CHECK(aad.contains("KustoClientAppId"));
  CHECK(aad.contains("KustoServiceResourceId"));
}

TEST_CASE("kusto-local --auth none: tokens are not required (and ignored when sent)") {
  auto kl = KustoLocal::start({"--database", "Db"});
  CHECK(kl->mgmtRaw("Db", ".show tables").status == 200);
  kl->setBearerToken("anything");
  CHECK(kl->mgmtRaw("Db", ".show tables").status == 200);
}
