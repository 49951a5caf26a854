// kusto-local token endpoints and bearer checks (see auth.h). Error texts follow Entra ID's
// AADSTS style so client libraries surface them as they would in production; they never
// contain a secret or a token.
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <random>

#include <fmt/format.h>

#include "url.h"

namespace kusto_local {
namespace {

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr std::int64_t kClockSkewSeconds = 300;
constexpr std::size_t kPruneThreshold = 4096;

std::int64_t systemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string isoNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string randomBytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // OpenSSL's generator failing is not something a test endpoint can recover from in a
    // useful way; fall back to a non-crypto source so tokens stay unique.
    thread_local std::mt19937_64 rng{std::random_device{}()};
    for (char& c : out) {
      c = static_cast<char>(rng());
    }
  }
  return out;
}

const std::string* formValue(const std::map<std::string, std::string>& form, std::string_view key) {
  auto it = form.find(std::string(key));
  return it == form.end() || it->second.empty() ? nullptr : &it->second;
}

TokenReply missingParameter(std::string_view name) {
  return aadError(400, "invalid_request", 900144,
                  fmt::format("The request body must contain the following parameter: '{}'.",
                              name));
}

// Parses a token request body and checks grant_type=client_credentials, the only grant
// kusto-local serves. status 0 when the form is usable (it is then in `form`).
TokenReply readClientCredentialsForm(std::string_view body,
                                     std::map<std::string, std::string>& form) {
  auto parsed = parseQuery(body);
  if (!parsed) {
    return aadError(400, "invalid_request", 900144,
                    "The request body is not valid "
                    "application/x-www-form-urlencoded.");
  }
  form = std::move(*parsed);
  const std::string* grant = formValue(form, "grant_type");
  if (grant == nullptr) {
    return missingParameter("grant_type");
  }
  if (*grant != "client_credentials") {
    return aadError(400, "unsupported_grant_type", 70003,
                    "The app requested an unsupported grant type; kusto-local supports "
                    "'client_credentials'.");
  }
  return TokenReply{0, {}};
}


// "https://host/.default" -> "https://host"; other scopes are returned unchanged.
std::string audienceFromScope(std::string_view scope) {
  // Several space-separated scopes may be sent; the first names the resource.
  std::string_view first = scope.substr(0, scope.find(' '));
  constexpr std::string_view kDefault = "/.default";
  if (first.size() >= kDefault.size() && first.substr(first.size() - kDefault.size()) == kDefault) {
    first.remove_suffix(kDefault.size());
  }
  return std::string(first);
}

bool scopeIsDefault(std::string_view scope) {
  std::string_view first = scope.substr(0, scope.find(' '));
  constexpr std::string_view kDefault = "/.default";
  return first.size() > kDefault.size() && first.substr(first.size() - kDefault.size()) == kDefault;
}

std::optional<std::int64_t> numericClaim(const nlohmann::json& payload, const char* name) {
  auto it = payload.find(name);
  if (it == payload.end()) {
    return std::nullopt;
  }
  if (it->is_number_integer()) {
    return it->get<std::int64_t>();
  }
  if (it->is_number()) {
    return static_cast<std::int64_t>(it->get<double>());
  }
  return std::nullopt;
}

}  // namespace

std::string randomGuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t a = rng();
  std::uint64_t b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                     b >> 48, b & 0xffffffffffffULL);
}

TokenReply aadError(int status, std::string_view error, int aadsts, std::string_view text) {
  TokenReply reply;
  reply.status = status;
  std::string trace = randomGuid();
  std::string correlation = randomGuid();
  reply.body = {
      {"error", error},
      {"error_description", fmt::format("AADSTS{}: {} Trace ID: {} Correlation ID: {} "
                                        "Timestamp: {}",
                                        aadsts, text, trace, correlation, isoNow())},
      {"error_codes", {aadsts}},
      {"timestamp", isoNow()},
      {"trace_id", trace},
      {"correlation_id", correlation},
  };
  return reply;
}

bool base64UrlDecode(std::string_view in, std::string& out) {
  out.clear();
  while (!in.empty() && in.back() == '=') {
    in.remove_suffix(1);
  }
  if (in.size() % 4 == 1) {
    return false;
  }
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '-' || c == '+') {
      v = 62;
    } else if (c == '_' || c == '/') {
      v = 63;
    } else {
      return false;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

std::string base64UrlEncode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    acc = (acc << 8) | static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) {
    out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  }
  return out;
}

std::string checkClientAssertion(std::string_view jwt, std::string_view client_id,
                                 std::int64_t now_seconds) {
  std::size_t d1 = jwt.find('.');
  std::size_t d2 = d1 == std::string_view::npos ? d1 : jwt.find('.', d1 + 1);
  if (d2 == std::string_view::npos || jwt.find('.', d2 + 1) != std::string_view::npos) {
    return "AADSTS50027: JWT token is invalid or malformed (expected three parts).";
  }
  std::string header_text;
  std::string payload_text;
  std::string signature;
  if (!base64UrlDecode(jwt.substr(0, d1), header_text) ||
      !base64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1), payload_text) ||
      !base64UrlDecode(jwt.substr(d2 + 1), signature)) {
    return "AADSTS50027: JWT token is invalid or malformed (bad base64url).";
  }
  nlohmann::json header = nlohmann::json::parse(header_text, nullptr, false);
  nlohmann::json payload = nlohmann::json::parse(payload_text, nullptr, false);
  if (!header.is_object() || !payload.is_object()) {
    return "AADSTS50027: JWT token is invalid or malformed (header or payload is not JSON).";
  }
  if (!header.contains("alg") || !header["alg"].is_string()) {
    return "AADSTS50027: JWT token is invalid or malformed (no 'alg' in the header).";
  }
  auto claim = [&](const char* name) -> std::string {
    auto it = payload.find(name);
    return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (claim("iss") != client_id || claim("sub") != client_id) {
    return "AADSTS700021: Client assertion application identifier doesn't match "
           "'client_id' parameter (the 'iss' and 'sub' claims must equal it).";
  }
  auto aud = payload.find("aud");
  bool aud_ok = aud != payload.end() && ((aud->is_string() && !aud->get<std::string>().empty()) ||
                                         (aud->is_array() && !aud->empty()));
  if (!aud_ok) {
    return "AADSTS50027: JWT token is invalid or malformed (no 'aud' claim).";
  }
  auto exp = numericClaim(payload, "exp");
  if (!exp) {
    return "AADSTS50027: JWT token is invalid or malformed (no numeric 'exp' claim).";
  }
  if (*exp <= now_seconds) {
    return "AADSTS700024: Client assertion is not within its valid time range (expired).";
  }
  if (auto nbf = numericClaim(payload, "nbf"); nbf && *nbf > now_seconds + kClockSkewSeconds) {
    return "AADSTS700024: Client assertion is not within its valid time range (not yet valid).";
  }
  return "";
}

Auth::Auth(AuthOptions options, Clock now)
    : options_(std::move(options)), now_(now ? std::move(now) : Clock(systemNow)) {}

bool Auth::checkBearer(const std::string* header) const {
  if (header == nullptr) {
    return false;
  }
  std::string_view v = *header;
  constexpr std::string_view kScheme = "bearer ";
  if (v.size() <= kScheme.size() || !equalsNoCase(v.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  v.remove_prefix(kScheme.size());
  while (!v.empty() && v.front() == ' ') {
    v.remove_prefix(1);
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tokens_.find(std::string(v));
  return it != tokens_.end() && it->second > now_();
}

Auth::Issued Auth::issue(std::string_view tenant, std::string_view audience,
                         std::string_view client_id) {
  std::int64_t now = now_();
  Issued out;
  out.expires_on = now + options_.token_lifetime.count();
  nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"kid", "kusto-local"}};
  nlohmann::json payload = {
      {"aud", audience},
      {"iss", fmt::format("https://sts.windows.net/{}/", tenant)},
      {"iat", now},
      {"nbf", now},
      {"exp", out.expires_on},
      {"appid", client_id},
      {"tid", tenant},
      {"ver", "1.0"},
      {"uti", base64UrlEncode(randomBytes(12))},
  };
  // The audience and client id come from the request and may be invalid UTF-8.
  constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
  out.token = base64UrlEncode(header.dump()) + "." +
              base64UrlEncode(payload.dump(-1, ' ', false, kReplace)) + "." +
              base64UrlEncode(randomBytes(32));
  std::lock_guard<std::mutex> lock(mu_);
  if (tokens_.size() >= kPruneThreshold) {
    std::erase_if(tokens_, [now](const auto& kv) { return kv.second <= now; });
  }
  tokens_.emplace(out.token, out.expires_on);
  return out;
}

TokenReply Auth::checkClient(std::string_view tenant,
                             const std::map<std::string, std::string>& form) {
  const std::string* client_id = formValue(form, "client_id");
  if (client_id == nullptr) {
    return missingParameter("client_id");
  }
  auto known = options_.clients.find(*client_id);
  if (known == options_.clients.end()) {
    return aadError(400, "unauthorized_client", 700016,
                    fmt::format("Application with identifier '{}' was not found in the "
                                "directory '{}'.",
                                *client_id, tenant));
  }
  const std::string* secret = formValue(form, "client_secret");
  const std::string* assertion = formValue(form, "client_assertion");
  if (assertion != nullptr) {
    const std::string* type = formValue(form, "client_assertion_type");
    if (type == nullptr || *type != kJwtBearer) {
      return aadError(400, "invalid_request", 700025,
                      "client_assertion_type must be "
                      "'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.");
    }
    std::string problem = checkClientAssertion(*assertion, *client_id, now_());
    if (!problem.empty()) {
      // problem already starts with "AADSTSnnn: "; keep the numeric code for error_codes.
      int code = std::atoi(problem.c_str() + 6);
      std::size_t colon = problem.find(": ");
      return aadError(401, "invalid_client", code, problem.substr(colon + 2));
    }
    return TokenReply{0, {}};
  }
  if (secret == nullptr) {
    return aadError(401, "invalid_client", 7000218,
                    "The request body must contain the following parameter: "
                    "'client_assertion' or 'client_secret'.");
  }
  const std::string& expected = known->second;
  bool match = !expected.empty() && expected.size() == secret->size() &&
               CRYPTO_memcmp(expected.data(), secret->data(), expected.size()) == 0;
  if (!match) {
    return aadError(401, "invalid_client", 7000215,
                    fmt::format("Invalid client secret provided. Ensure the secret being sent "
                                "in the request is the client secret value, not the client "
                                "secret ID, for a secret added to app '{}'.",
                                *client_id));
  }
  return TokenReply{0, {}};
}

TokenReply Auth::tokenV2(std::string_view tenant, std::string_view form_body) {
  std::map<std::string, std::string> parsed;
  if (TokenReply bad = readClientCredentialsForm(form_body, parsed); bad.status != 0) {
    return bad;
  }
  const auto* form = &parsed;
  const std::string* scope = formValue(*form, "scope");
  if (scope == nullptr) {
    return missingParameter("scope");
  }
  if (!scopeIsDefault(*scope)) {
    return aadError(400, "invalid_scope", 1002012,
                    "The provided value for scope is not valid. Client credential flows "
                    "must have a scope value with /.default suffixed to the resource "
                    "identifier (application ID URI).");
  }
  TokenReply check = checkClient(tenant, *form);
  if (check.status != 0) {
    return check;
  }
  Issued t = issue(tenant, audienceFromScope(*scope), *formValue(*form, "client_id"));
  issued_v2_.fetch_add(1, std::memory_order_relaxed);
  std::int64_t lifetime = options_.token_lifetime.count();
  return TokenReply{200,
                    {{"token_type", "Bearer"},
                     {"expires_in", lifetime},
                     {"ext_expires_in", lifetime},
                     {"access_token", t.token}}};
}

TokenReply Auth::tokenV1(std::string_view tenant, std::string_view form_body) {
  std::map<std::string, std::string> parsed;
  if (TokenReply bad = readClientCredentialsForm(form_body, parsed); bad.status != 0) {
    return bad;
  }
  const auto* form = &parsed;
  const std::string* resource = formValue(*form, "resource");
  if (resource == nullptr) {
    return missingParameter("resource");
  }
  TokenReply check = checkClient(tenant, *form);
  if (check.status != 0) {
    return check;
  }
  Issued t = issue(tenant, *resource, *formValue(*form, "client_id"));
  issued_v1_.fetch_add(1, std::memory_order_relaxed);
  std::string lifetime = std::to_string(options_.token_lifetime.count());
  // The v1 endpoint returns its numbers as strings.
  return TokenReply{200,
                    {{"token_type", "Bearer"},
                     {"expires_in", lifetime},
                     {"ext_expires_in", lifetime},
                     {"expires_on", std::to_string(t.expires_on)},
                     {"not_before", std::to_string(t.expires_on - options_.token_lifetime.count())},
                     {"resource", *resource},
                     {"access_token", t.token}}};
}

TokenReply Auth::imds(const std::map<std::string, std::string>& query,
                      const std::string* metadata_header) {
  if (metadata_header == nullptr || !equalsNoCase(*metadata_header, "true")) {
    TokenReply r{400,
                 {{"error", "invalid_request"},
                  {"error_description", "Required metadata header not specified"}}};
    return r;
  }
  if (formValue(query, "api-version") == nullptr) {
    return TokenReply{400,
                      {{"error", "invalid_request"},
                       {"error_description", "Required query variable 'api-version' is missing"}}};
  }
  const std::string* resource = formValue(query, "resource");
  if (resource == nullptr) {
    return TokenReply{400,
                      {{"error", "invalid_request"},
                       {"error_description", "Required query variable 'resource' is missing"}}};
  }
  int ids = (formValue(query, "client_id") ? 1 : 0) + (formValue(query, "object_id") ? 1 : 0) +
            (formValue(query, "msi_res_id") ? 1 : 0) + (formValue(query, "mi_res_id") ? 1 : 0);
  if (ids > 1) {
    return TokenReply{400,
                      {{"error", "invalid_request"},
                       {"error_description",
                        "Only one of client_id, object_id or msi_res_id may be given"}}};
  }
  const std::string* client = formValue(query, "client_id");
  std::string client_id = client ? *client : "kusto-local-system-assigned";
  Issued t = issue("managed-identity", *resource, client_id);
  issued_imds_.fetch_add(1, std::memory_order_relaxed);
  std::string lifetime = std::to_string(options_.token_lifetime.count());
  return TokenReply{200,
                    {{"access_token", t.token},
                     {"client_id", client_id},
                     {"expires_in", lifetime},
                     {"ext_expires_in", lifetime},
                     {"expires_on", std::to_string(t.expires_on)},
                     {"not_before", std::to_string(t.expires_on - options_.token_lifetime.count())},
                     {"resource", *resource},
                     {"token_type", "Bearer"}}};
}

TokenReply Auth::appService(const std::map<std::string, std::string>& query,
                            const std::string* identity_header) {
  if (identity_header == nullptr || *identity_header != options_.identity_header) {
    return TokenReply{401,
                      {{"error", "invalid_request"},
                       {"error_description", "X-IDENTITY-HEADER is missing or does not match"}}};
  }
  if (formValue(query, "api-version") == nullptr) {
    return TokenReply{
        400, {{"error", "invalid_request"}, {"error_description", "api-version is required"}}};
  }
  const std::string* resource = formValue(query, "resource");
  if (resource == nullptr) {
    return TokenReply{
        400, {{"error", "invalid_request"}, {"error_description", "resource is required"}}};
  }
  const std::string* client = formValue(query, "client_id");
  std::string client_id = client ? *client : "kusto-local-system-assigned";
  Issued t = issue("managed-identity", *resource, client_id);
  issued_app_service_.fetch_add(1, std::memory_order_relaxed);
  return TokenReply{200,
                    {{"access_token", t.token},
                     {"expires_on", std::to_string(t.expires_on)},
                     {"expires_in", std::to_string(options_.token_lifetime.count())},
                     {"resource", *resource},
                     {"token_type", "Bearer"},
                     {"client_id", client_id}}};
}

std::map<std::string, std::uint64_t> Auth::tokensIssued() const {
  return {{"v2", issued_v2_.load()},
          {"v1", issued_v1_.load()},
          {"imds", issued_imds_.load()},
          {"app_service", issued_app_service_.load()}};
}

}  // namespace kusto_local
