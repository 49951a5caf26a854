// Access tokens for the kusto output: auth methods none, token (inline or a file re-read when it
// changes) and client_secret (Entra ID client credentials, cached and refreshed ahead of expiry
// through the output's HttpClient). Everything runs on the loop thread and never blocks: sends
// wait for a token only when there is no valid one at all. Secrets never reach logs or errors:
// every string that leaves this path is passed through scrubSecrets() (agent/core/scrub.h)
// with the secret and tokens it knows, since a peer may echo our request back at us.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/clock.h"
#include "agent/core/log.h"
#include "agent/core/status.h"
#include "agent/plugin/config.h"
#include "agent/plugin/http.h"
#include "agent/plugin/loop.h"
#include "agent/plugin/metrics.h"

namespace ingestd::outputs::kusto {

struct AuthSettings {
  std::string method = "none";  // none, token, client_secret
  MapReader::Secret token;      // method token: token or token_file
  std::string tenant_id;        // method client_secret
  std::string client_id;
  MapReader::Secret client_secret;  // client_secret or client_secret_file
  std::string authority_host = "https://login.microsoftonline.com";
  std::string scope;  // default "<cluster scheme://host>/.default", filled in by parse()
};

// ---- Pure parts (unit tested) ----

struct TokenResponse {
  std::string access_token;
  std::chrono::seconds expires_in{3600};
  bool expires_in_missing = false;  // the endpoint did not say; one hour is assumed
};
// Parses an OAuth2 token response ({"access_token", "expires_in" as a number or a string}).
// Errors never contain the body (it may hold a token).
Result<TokenResponse> parseTokenResponse(std::string_view body);
// One line about a failed token request: status and the endpoint's "error" and
// "error_description" (its first line, at most 300 characters), with `secrets` scrubbed out
// before anything is cut: an endpoint or a proxy may echo the request, client_secret included.
std::string tokenErrorSummary(long status, std::string_view body,
                              const std::vector<std::string_view>& secrets = {});
// "<authority_host>/<tenant>/oauth2/v2.0/token" (a trailing '/' on the host is ignored).
std::string tokenEndpoint(std::string_view authority_host, std::string_view tenant);
// grant_type=client_credentials&client_id=..&client_secret=..&scope=.. (form-urlencoded).
std::string clientCredentialsBody(std::string_view client_id, std::string_view client_secret,
                                  std::string_view scope);
// The content of a token file without surrounding whitespace and line breaks.
std::string trimTokenText(std::string_view text);

// When to refresh a token obtained at `obtained` that lives `expires_in`, and until when it may
// be used: refresh at min(expires_in / 2, expires_in - 5 min) (half the life for short tokens,
// at least 1 s); use until 30 s (at most half the life) before it expires.
struct TokenSchedule {
  Clock::Monotonic refresh_at;
  Clock::Monotonic usable_until;
};
TokenSchedule scheduleToken(Clock::Monotonic obtained, std::chrono::seconds expires_in);
// Delay before the next attempt after `failures` consecutive failed refreshes (1, 2, ...):
// 5 s, 10 s, 20 s, ... capped at 2 min. Never less than 5 s.
std::chrono::milliseconds refreshRetryDelay(unsigned failures);

inline constexpr std::chrono::seconds kMinRefreshInterval{5};
inline constexpr std::chrono::seconds kTokenWaitTimeout{30};
inline constexpr std::chrono::seconds kTokenFileCheckInterval{5};
inline constexpr std::size_t kMaxTokenWaiters = 4096;

// ---- Providers (loop thread) ----

struct AuthEnv {
  Loop& loop;  // for timers and fileWork() (token files)
  Logger& log;
  const Clock& clock;
  HttpClient& http;                  // for client_secret; shared with the output
  std::string component;             // log component, e.g. "output kusto/adx"
  OutputMetrics* metrics = nullptr;  // tokenRefresh("ok"/"error"); may be null in tests
};

class TokenProvider {
 public:
  using Callback = std::function<void(Result<std::string>)>;
  virtual ~TokenProvider() = default;
  // Starts the first fetch (client_secret, token_file). Loop thread; does not block.
  virtual void start() = 0;
  // A valid token ("" for method none). Calls cb synchronously when one is cached; otherwise
  // queues cb until a token arrives, or fails it after kTokenWaitTimeout (an error that says
  // why the last fetch failed). cb runs at most once, on the loop thread; never after stop().
  virtual void get(Callback cb) = 0;
  // The service answered 401 to `rejected`: forget it and fetch again (at most every
  // kMinRefreshInterval). Following get() calls wait for the new token.
  virtual void invalidate(const std::string& rejected) = 0;
  // False when a 401 cannot be helped by fetching again (none, inline token).
  virtual bool canRefresh() const = 0;
  // Has a usable token now.
  virtual bool ready() const = 0;
  // Drops waiters without calling them, cancels fetches and timers. Loop thread.
  virtual void stop() = 0;
};

// The provider for settings.method (validated by parse()).
std::unique_ptr<TokenProvider> makeTokenProvider(const AuthSettings& settings, AuthEnv env);

}  // namespace ingestd::outputs::kusto
