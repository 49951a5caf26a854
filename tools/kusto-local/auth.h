// kusto-local authentication: the Entra ID (AAD) style token endpoints (v2 and legacy v1
// client credentials, with a secret or a JWT client assertion), the IMDS and App Service
// managed-identity endpoints, and the bearer-token check on Kusto endpoints (spec section 5).
// Tokens are opaque JWT-shaped strings kusto-local issued; nothing is signed or verified
// cryptographically.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace kusto_local {

enum class AuthMode { kNone, kAad };

struct AuthOptions {
  AuthMode mode = AuthMode::kNone;
  std::chrono::seconds token_lifetime{3600};
  // Registered applications: client id -> secret. An empty secret registers a client that
  // can only authenticate with a client assertion.
  std::map<std::string, std::string> clients;
  // The value the App Service endpoint expects in X-IDENTITY-HEADER.
  std::string identity_header = "kusto-local-identity-header";
};

// A token endpoint's answer: an HTTP status and a JSON body (the token or an AAD-style error
// {"error", "error_description", "error_codes", ...}).
// NOLINTNEXTLINE(bugprone-exception-escape): a nlohmann::json member, whose moves do not throw
struct TokenReply {
  int status = 200;
  nlohmann::json body;
};

// Checks a JWT client assertion as far as kusto-local does (see docs/kusto-local.md): three
// base64url parts, JSON header with "alg", JSON payload with iss == sub == client_id, an
// "aud", "exp" in the future and "nbf" (if any) not in the future. The signature is not
// verified. Returns "" when acceptable, else an AADSTS-style description. Pure.
std::string checkClientAssertion(std::string_view jwt, std::string_view client_id,
                                 std::int64_t now_seconds);

// base64url (RFC 4648 section 5) codecs for JWTs. Decoding accepts padded and unpadded input
// and also the standard alphabet; it returns false on any other character.
bool base64UrlDecode(std::string_view in, std::string& out);
std::string base64UrlEncode(std::string_view in);

// Thread-safe: token endpoints and bearer checks run on connection threads.
class Auth {
 public:
  using Clock = std::function<std::int64_t()>;  // seconds since the epoch
  explicit Auth(AuthOptions options, Clock now = {});

  bool required() const { return options_.mode == AuthMode::kAad; }

  // True when the Authorization header holds "Bearer <token>" for an unexpired token this
  // instance issued. header may be nullptr.
  bool checkBearer(const std::string* header) const;

  // POST /{tenant}/oauth2/v2.0/token with a form body.
  TokenReply tokenV2(std::string_view tenant, std::string_view form_body);
  // POST /{tenant}/oauth2/token (legacy v1, "resource" instead of "scope").
  TokenReply tokenV1(std::string_view tenant, std::string_view form_body);
  // GET /metadata/identity/oauth2/token?...; metadata_header is the "Metadata" header.
  TokenReply imds(const std::map<std::string, std::string>& query,
                  const std::string* metadata_header);
  // GET /msi/token?...; identity_header is the "X-IDENTITY-HEADER" header.
  TokenReply appService(const std::map<std::string, std::string>& query,
                        const std::string* identity_header);

  // Tokens issued so far, by endpoint: "v2", "v1", "imds", "app_service".
  std::map<std::string, std::uint64_t> tokensIssued() const;

  std::int64_t lifetimeSeconds() const { return options_.token_lifetime.count(); }

 private:
  struct Issued {
    std::string token;
    std::int64_t expires_on = 0;
  };
  // Creates and remembers a token for this audience and client.
  Issued issue(std::string_view tenant, std::string_view audience, std::string_view client_id);
  // Validates client_id + secret/assertion; returns an error reply or nullopt-like status 0.
  TokenReply checkClient(std::string_view tenant, const std::map<std::string, std::string>& form);

  AuthOptions options_;
  Clock now_;
  mutable std::mutex mu_;                                 // guards tokens_
  std::unordered_map<std::string, std::int64_t> tokens_;  // token -> expiry (epoch seconds)
  std::atomic<std::uint64_t> issued_v2_{0};
  std::atomic<std::uint64_t> issued_v1_{0};
  std::atomic<std::uint64_t> issued_imds_{0};
  std::atomic<std::uint64_t> issued_app_service_{0};
};

// Builds an AAD-style error reply: {"error", "error_description": "AADSTS<code>: <text>",
// "error_codes": [code], "timestamp", "trace_id", "correlation_id"}.
TokenReply aadError(int status, std::string_view error, int aadsts, std::string_view text);

// A random version-4 GUID in the usual 8-4-4-4-12 form. Thread-safe.
std::string randomGuid();

}  // namespace kusto_local
