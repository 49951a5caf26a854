// Unit tests for kusto-local's token endpoints (form parsing, client checks, JWT client
// assertions, managed identity endpoints) and bearer-token checks, with a fake clock.
#include <doctest/doctest.h>

#include <string>

#include "tools/kusto-local/auth.h"

using kusto_local::Auth;
using kusto_local::AuthMode;
using kusto_local::AuthOptions;
using kusto_local::base64UrlDecode;
using kusto_local::base64UrlEncode;
using kusto_local::checkClientAssertion;

namespace {

constexpr std::int64_t kNow = 1700000000;

std::string jwt(const nlohmann::json& header, const nlohmann::json& payload) {
  return base64UrlEncode(header.dump()) + "." + base64UrlEncode(payload.dump()) + "." +
         base64UrlEncode("signature");
}

std::string assertionFor(const std::string& client, std::int64_t exp) {
  return jwt({{"alg", "RS256"}, {"typ", "JWT"}}, {{"iss", client},
                                                  {"sub", client},
                                                  {"aud", "https://login/t/oauth2/v2.0/token"},
                                                  {"exp", exp},
                                                  {"iat", kNow},
                                                  {"jti", "1"}});
}

struct Fixture {
  std::int64_t now = kNow;
  Auth auth{[] {
              AuthOptions o;
              o.mode = AuthMode::kAad;
              o.token_lifetime = std::chrono::seconds(60);
              o.clients = {{"app", "s3cret"}, {"certapp", ""}};
              return o;
            }(),
            [this] { return now; }};
};

std::string bearer(const kusto_local::TokenReply& r) {
  return "Bearer " + r.body.at("access_token").get<std::string>();
}

}  // namespace

TEST_CASE("kusto-local auth: base64url round trip, padded and unpadded") {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\xff\xfe\x00zz"}) {
    std::string back;
    REQUIRE(base64UrlDecode(base64UrlEncode(s), back));
    CHECK(back == s);
  }
  std::string out;
  CHECK(base64UrlDecode("YWI=", out));
  CHECK(out == "ab");
  CHECK_FALSE(base64UrlDecode("a", out));
  CHECK_FALSE(base64UrlDecode("ab$c", out));
}

TEST_CASE("kusto-local auth: a client-secret token is accepted until it expires") {
  Fixture f;
  auto r = f.auth.tokenV2("tenant",
                          "grant_type=client_credentials&client_id=app&client_secret=s3cret"
                          "&scope=http%3A%2F%2F127.0.0.1%3A1234%2F.default&client_info=1");
  REQUIRE(r.status == 200);
  CHECK(r.body["token_type"] == "Bearer");
  CHECK(r.body["expires_in"] == 60);
  CHECK(r.body["ext_expires_in"] == 60);
  const std::string header = bearer(r);
  CHECK(f.auth.checkBearer(&header));
  const std::string lower = "bearer " + r.body["access_token"].get<std::string>();
  CHECK(f.auth.checkBearer(&lower));
  const std::string wrong = "Bearer nope";
  CHECK_FALSE(f.auth.checkBearer(&wrong));
  CHECK_FALSE(f.auth.checkBearer(nullptr));
  const std::string basic = "Basic " + r.body["access_token"].get<std::string>();
  CHECK_FALSE(f.auth.checkBearer(&basic));
  f.now += 59;
  CHECK(f.auth.checkBearer(&header));
  f.now += 1;
  CHECK_FALSE(f.auth.checkBearer(&header));
  CHECK(f.auth.tokensIssued().at("v2") == 1);
}

TEST_CASE("kusto-local auth: wrong secret, unknown client and bad forms never echo the secret") {
  Fixture f;
  auto wrong = f.auth.tokenV2("t",
                              "grant_type=client_credentials&client_id=app"
                              "&client_secret=guess-me&scope=x%2F.default");
  CHECK(wrong.status == 401);
  CHECK(wrong.body["error"] == "invalid_client");
  CHECK(wrong.body["error_description"].get<std::string>().find("AADSTS7000215") == 0);
  CHECK(wrong.body.dump().find("guess-me") == std::string::npos);
  CHECK_FALSE(wrong.body.contains("access_token"));

  auto unknown = f.auth.tokenV2("t",
                                "grant_type=client_credentials&client_id=who"
                                "&client_secret=s3cret&scope=x%2F.default");
  CHECK(unknown.status == 400);
  CHECK(unknown.body["error"] == "unauthorized_client");
  CHECK(unknown.body.dump().find("s3cret") == std::string::npos);

  CHECK(f.auth.tokenV2("t", "client_id=app&client_secret=s3cret&scope=x%2F.default").status == 400);
  CHECK(f.auth
            .tokenV2("t",
                     "grant_type=password&client_id=app&client_secret=s3cret"
                     "&scope=x%2F.default")
            .body["error"] == "unsupported_grant_type");
  CHECK(f.auth.tokenV2("t", "grant_type=client_credentials&client_id=app&client_secret=s3cret")
            .status == 400);
  CHECK(f.auth
            .tokenV2("t",
                     "grant_type=client_credentials&client_id=app&client_secret=s3cret"
                     "&scope=https%3A%2F%2Fx%2Fuser.read")
            .body["error"] == "invalid_scope");
  CHECK(f.auth.tokenV2("t", "grant_type=client_credentials&client_id=app&scope=x%2F.default")
            .status == 401);
  // A client registered without a secret cannot use an empty secret.
  CHECK(f.auth
            .tokenV2("t",
                     "grant_type=client_credentials&client_id=certapp&client_secret="
                     "&scope=x%2F.default")
            .status == 401);
  CHECK(f.auth.tokenV2("t", "grant_type=%zz").status == 400);
  CHECK(f.auth.tokensIssued().at("v2") == 0);
}

TEST_CASE("kusto-local auth: JWT client assertion checks") {
  CHECK(checkClientAssertion(assertionFor("c", kNow + 600), "c", kNow).empty());
  CHECK(checkClientAssertion(assertionFor("c", kNow - 1), "c", kNow).find("AADSTS700024") == 0);
  CHECK(checkClientAssertion(assertionFor("other", kNow + 600), "c", kNow).find("AADSTS700021") ==
        0);
  CHECK_FALSE(checkClientAssertion("a.b", "c", kNow).empty());
  CHECK_FALSE(checkClientAssertion("a.b.c.d", "c", kNow).empty());
  CHECK_FALSE(checkClientAssertion("!!.??.**", "c", kNow).empty());
  CHECK_FALSE(
      checkClientAssertion(base64UrlEncode("x") + "." + base64UrlEncode("y") + ".s", "c", kNow)
          .empty());
  // Missing aud, missing alg, sub differing from iss, non-numeric exp, nbf in the future.
  CHECK_FALSE(checkClientAssertion(jwt({{"alg", "RS256"}},
                                       {{"iss", "c"}, {"sub", "c"}, {"exp", kNow + 60}}),
                                   "c", kNow)
                  .empty());
  CHECK_FALSE(
      checkClientAssertion(jwt({{"typ", "JWT"}},
                               {{"iss", "c"}, {"sub", "c"}, {"aud", "a"}, {"exp", kNow + 60}}),
                           "c", kNow)
          .empty());
  CHECK_FALSE(
      checkClientAssertion(jwt({{"alg", "RS256"}},
                               {{"iss", "c"}, {"sub", "d"}, {"aud", "a"}, {"exp", kNow + 60}}),
                           "c", kNow)
          .empty());
  CHECK_FALSE(
      checkClientAssertion(jwt({{"alg", "RS256"}},
                               {{"iss", "c"}, {"sub", "c"}, {"aud", "a"}, {"exp", "later"}}),
                           "c", kNow)
          .empty());
  CHECK_FALSE(checkClientAssertion(jwt({{"alg", "RS256"}}, {{"iss", "c"},
                                                            {"sub", "c"},
                                                            {"aud", {"a"}},
                                                            {"exp", kNow + 6000},
                                                            {"nbf", kNow + 3000}}),
                                   "c", kNow)
                  .empty());
}

TEST_CASE("kusto-local auth: client assertion flow through the v2 endpoint") {
  Fixture f;
  const std::string type = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer";
  auto ok = f.auth.tokenV2("t",
                           "grant_type=client_credentials&client_id=certapp"
                           "&client_assertion_type=" +
                               type + "&client_assertion=" + assertionFor("certapp", kNow + 600) +
                               "&scope=https%3A%2F%2Fx%2F.default");
  REQUIRE(ok.status == 200);
  const std::string header = bearer(ok);
  CHECK(f.auth.checkBearer(&header));
  auto expired =
      f.auth.tokenV2("t",
                     "grant_type=client_credentials&client_id=certapp"
                     "&client_assertion_type=" +
                         type + "&client_assertion=" + assertionFor("certapp", kNow - 5) +
                         "&scope=https%3A%2F%2Fx%2F.default");
  CHECK(expired.status == 401);
  CHECK(expired.body["error_codes"][0] == 700024);
  auto bad_type =
      f.auth.tokenV2("t",
                     "grant_type=client_credentials&client_id=certapp"
                     "&client_assertion_type=other&client_assertion=" +
                         assertionFor("certapp", kNow + 600) + "&scope=https%3A%2F%2Fx%2F.default");
  CHECK(bad_type.status == 400);
}

TEST_CASE("kusto-local auth: legacy v1 endpoint returns numbers as strings") {
  Fixture f;
  auto r = f.auth.tokenV1("t",
                          "grant_type=client_credentials&client_id=app&client_secret=s3cret"
                          "&resource=https%3A%2F%2Fkusto");
  REQUIRE(r.status == 200);
  CHECK(r.body["expires_in"] == "60");
  CHECK(r.body["expires_on"] == std::to_string(kNow + 60));
  CHECK(r.body["resource"] == "https://kusto");
  CHECK(f.auth.tokenV1("t", "grant_type=client_credentials&client_id=app&client_secret=s3cret")
            .status == 400);
}

TEST_CASE("kusto-local auth: IMDS needs Metadata: true, App Service needs the identity header") {
  Fixture f;
  std::map<std::string, std::string> q = {{"api-version", "2018-02-01"},
                                          {"resource", "https://kusto"}};
  CHECK(f.auth.imds(q, nullptr).status == 400);
  const std::string no = "false";
  CHECK(f.auth.imds(q, &no).status == 400);
  const std::string yes = "true";
  auto r = f.auth.imds(q, &yes);
  REQUIRE(r.status == 200);
  CHECK(r.body["expires_in"] == "60");
  CHECK(r.body["expires_on"] == std::to_string(kNow + 60));
  CHECK(r.body["resource"] == "https://kusto");
  CHECK(r.body["token_type"] == "Bearer");
  const std::string h = bearer(r);
  CHECK(f.auth.checkBearer(&h));
  CHECK(f.auth.imds({{"api-version", "1"}}, &yes).status == 400);
  CHECK(f.auth.imds({{"resource", "r"}}, &yes).status == 400);
  CHECK(f.auth
            .imds({{"api-version", "1"}, {"resource", "r"}, {"client_id", "a"}, {"object_id", "b"}},
                  &yes)
            .status == 400);

  std::map<std::string, std::string> as = {{"api-version", "2019-08-01"},
                                           {"resource", "https://kusto"}};
  const std::string wrong = "nope";
  CHECK(f.auth.appService(as, nullptr).status == 401);
  CHECK(f.auth.appService(as, &wrong).status == 401);
  const std::string right = "kusto-local-identity-header";
  auto a = f.auth.appService(as, &right);
  REQUIRE(a.status == 200);
  CHECK(a.body["expires_on"] == std::to_string(kNow + 60));
  CHECK(f.auth.tokensIssued().at("imds") == 1);
  CHECK(f.auth.tokensIssued().at("app_service") == 1);
}

TEST_CASE("kusto-local auth: invalid UTF-8 in request fields does not break token issuing") {
  Fixture f;
  const std::string yes = "true";
  auto r = f.auth.imds(
      {{"api-version", "1"}, {"resource", "https://k\xff\xfe"}, {"client_id", "id\xc3"}}, &yes);
  REQUIRE(r.status == 200);
  CHECK_NOTHROW((void)r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  const std::string h = bearer(r);
  CHECK(f.auth.checkBearer(&h));
}
