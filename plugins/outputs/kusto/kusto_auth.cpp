// Token providers of the kusto output (see kusto_auth.h). Secrets live only in memory: they are
// never formatted into log lines, errors or metrics.
#include "plugins/outputs/kusto/kusto_auth.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/core/scrub.h"
#include "plugins/outputs/kusto/kusto_request.h"

namespace ingestd::outputs::kusto {

// ---------------------------------------------------------------------------------------------
// Pure parts

Result<TokenResponse> parseTokenResponse(std::string_view body) {
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return makeError(ErrorCode::kProtocol, "the token endpoint did not answer with a JSON object");
  }
  TokenResponse out;
  auto tok = doc.find("access_token");
  if (tok == doc.end() || !tok->is_string() || tok->get<std::string>().empty()) {
    return makeError(ErrorCode::kProtocol, "the token endpoint's answer has no access_token");
  }
  out.access_token = tok->get<std::string>();
  auto exp = doc.find("expires_in");
  if (exp == doc.end() || exp->is_null()) {
    out.expires_in_missing = true;
    return out;
  }
  long long seconds = -1;
  if (exp->is_number_integer() || exp->is_number_unsigned()) {
    seconds = exp->get<long long>();
  } else if (exp->is_number_float()) {
    seconds = static_cast<long long>(exp->get<double>());
  } else if (exp->is_string()) {
    const std::string s = exp->get<std::string>();
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end == s.c_str() + s.size() && errno == 0) {
      seconds = v;
    }
  }
  if (seconds <= 0) {
    return makeError(ErrorCode::kProtocol,
                     "the token endpoint's expires_in is not a positive number of seconds");
  }
  out.expires_in = std::chrono::seconds(seconds);
  return out;
}

std::string tokenErrorSummary(long status, std::string_view body,
                              const std::vector<std::string_view>& secrets) {
  std::string out = status == 0 ? std::string("no response") : fmt::format("HTTP {}", status);
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object()) {
    std::string error;
    std::string description;
    if (auto e = doc.find("error"); e != doc.end() && e->is_string()) {
      error = scrubSecrets(e->get<std::string>(), secrets);
    }
    if (auto d = doc.find("error_description"); d != doc.end() && d->is_string()) {
      // Scrubbed first: cutting first could leave the start of an echoed secret behind.
      description = scrubSecrets(d->get<std::string>(), secrets);
      // AAD appends trace ids and timestamps on new lines; the first line says it all.
      description = description.substr(0, description.find_first_of("\r\n"));
      if (description.size() > 300) {
        description = description.substr(0, 300) + "...";
      }
    }
    if (!error.empty()) {
      out += ": " + error;
    }
    if (!description.empty()) {
      out += ": " + description;
    }
  }
  return out;
}

std::string tokenEndpoint(std::string_view authority_host, std::string_view tenant) {
  while (!authority_host.empty() && authority_host.back() == '/') {
    authority_host.remove_suffix(1);
  }
  return fmt::format("{}/{}/oauth2/v2.0/token", authority_host, percentEncode(tenant));
}

std::string clientCredentialsBody(std::string_view client_id, std::string_view client_secret,
                                  std::string_view scope) {
  return fmt::format("grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
                     percentEncode(client_id), percentEncode(client_secret), percentEncode(scope));
}

std::string trimTokenText(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && space(text.back())) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

TokenSchedule scheduleToken(Clock::Monotonic obtained, std::chrono::seconds expires_in) {
  using std::chrono::seconds;
  const seconds half = expires_in / 2;
  seconds refresh = std::min(half, expires_in - seconds(300));
  if (refresh <= seconds(0)) {
    refresh = half;  // short-lived token: refresh at half its life
  }
  refresh = std::max(refresh, seconds(1));
  const seconds margin = std::min(seconds(30), half);
  return TokenSchedule{obtained + refresh, obtained + expires_in - margin};
}

std::chrono::milliseconds refreshRetryDelay(unsigned failures) {
  using std::chrono::milliseconds;
  const milliseconds cap(120000);
  milliseconds delay(5000);
  for (unsigned i = 1; i < failures && delay < cap; ++i) {
    delay *= 2;
  }
  return std::min(delay, cap);
}

// ---------------------------------------------------------------------------------------------
// Providers

namespace {

// Blocking: the content of a file of at most max_bytes. Runs in fileWork(), never on the loop.
Result<std::string> readSmallFile(const std::string& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return makeError(ErrorCode::kIo, "cannot open '{}': {}", path, std::strerror(errno));
  }
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      Error error = makeError(ErrorCode::kIo, "cannot read '{}': {}", path, std::strerror(errno));
      ::close(fd);
      return error;
    }
    if (n == 0) {
      break;
    }
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > max_bytes) {
      ::close(fd);
      return makeError(ErrorCode::kInvalidArgument, "'{}' is larger than {} bytes", path,
                       max_bytes);
    }
  }
  ::close(fd);
  return data;
}

// Reads a small file on libuv's thread pool (the loop never blocks on the file system); cb runs
// on the loop thread unless `alive` (the provider's cancellation token) expired first.
void readSmallFileAsync(Loop& loop, std::string path, std::size_t max_bytes,
                        std::weak_ptr<void> alive, std::function<void(Result<std::string>)> cb) {
  auto result = std::make_shared<Result<std::string>>(Error{});
  fileWork(
      loop,
      [result, path = std::move(path), max_bytes] { *result = readSmallFile(path, max_bytes); },
      [result, alive = std::move(alive), cb = std::move(cb)] {
        if (!alive.expired()) {
          cb(std::move(*result));
        }
      });
}

constexpr std::size_t kMaxSecretFileBytes = std::size_t{64} * 1024;

// The waiting and caching shared by the providers that fetch tokens.
class CachingProvider : public TokenProvider {
 public:
  explicit CachingProvider(AuthEnv env)
      : env_(std::move(env)), wait_timer_(env_.loop), alive_(std::make_shared<int>(0)) {}

  void get(Callback cb) override {
    if (stopped_) {
      return;
    }
    const auto now = env_.clock.now();
    if (usable(now)) {
      cb(current_);
      return;
    }
    if (waiters_.size() >= kMaxTokenWaiters) {
      cb(makeError(ErrorCode::kUnavailable, "no access token yet ({} sends already waiting): {}",
                   waiters_.size(), lastError()));
      return;
    }
    waiters_.push_back(Waiter{now + kTokenWaitTimeout, std::move(cb)});
    armWaitTimer();
    needToken();
  }

  bool ready() const override { return usable(env_.clock.now()); }

  void stop() override {
    stopped_ = true;
    waiters_.clear();
    wait_timer_.stop();
    alive_.reset();
    stopFetching();
  }

 protected:
  // A waiter arrived and there is no usable token: fetch one unless a fetch is under way.
  virtual void needToken() = 0;
  virtual void stopFetching() = 0;

  bool usable(Clock::Monotonic now) const { return has_token_ && now < usable_until_; }

  void setToken(std::string token, Clock::Monotonic usable_until) {
    current_ = std::move(token);
    usable_until_ = usable_until;
    has_token_ = true;
    last_error_.clear();
    // Serve the waiters; a callback may call get() again, which now returns at once.
    auto waiters = std::move(waiters_);
    waiters_.clear();
    wait_timer_.stop();
    for (auto& w : waiters) {
      if (stopped_) {
        return;
      }
      w.cb(current_);
    }
  }

  void dropToken() { has_token_ = false; }

  // The secret values this provider knows (a secret, tokens), for scrubSecrets().
  virtual std::vector<std::string_view> secrets() const { return {current_}; }
  std::string scrub(std::string_view text) const { return scrubSecrets(text, secrets()); }

  std::string lastError() const {
    return last_error_.empty() ? std::string("the first token request has not completed yet")
                               : last_error_;
  }

  void countRefresh(bool ok) {
    if (env_.metrics != nullptr) {
      env_.metrics->tokenRefresh(ok ? "ok" : "error").Increment();
    }
  }

  AuthEnv env_;
  std::string current_;
  bool has_token_ = false;
  Clock::Monotonic usable_until_{};
  std::string last_error_;  // scrubbed: never contains a secret
  bool stopped_ = false;

  std::weak_ptr<void> aliveToken() const { return alive_; }

 private:
  struct Waiter {
    Clock::Monotonic deadline;
    Callback cb;
  };

  void armWaitTimer() {
    if (waiters_.empty()) {
      wait_timer_.stop();
      return;
    }
    auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(waiters_.front().deadline -
                                                                       env_.clock.now());
    wait_timer_.start(std::max(delay, std::chrono::milliseconds(0)), [this] { expireWaiters(); });
  }

  void expireWaiters() {
    const auto now = env_.clock.now();
    std::deque<Waiter> expired;
    while (!waiters_.empty() && waiters_.front().deadline <= now) {
      expired.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
    armWaitTimer();
    for (auto& w : expired) {
      if (stopped_) {
        return;
      }
      w.cb(makeError(ErrorCode::kUnavailable, "no access token after {} s: {}",
                     kTokenWaitTimeout.count(), lastError()));
    }
  }

  std::deque<Waiter> waiters_;
  Timer wait_timer_;
  std::shared_ptr<int> alive_;  // async file reads hold a weak_ptr
};

class NoneProvider final : public TokenProvider {
 public:
  void start() override {}
  void get(Callback cb) override { cb(std::string()); }
  void invalidate(const std::string&) override {}
  bool canRefresh() const override { return false; }
  bool ready() const override { return true; }
  void stop() override {}
};

class StaticTokenProvider final : public TokenProvider {
 public:
  explicit StaticTokenProvider(std::string token) : token_(std::move(token)) {}
  void start() override {}
  void get(Callback cb) override { cb(token_); }
  void invalidate(const std::string&) override {}
  bool canRefresh() const override { return false; }
  bool ready() const override { return true; }
  void stop() override {}

 private:
  std::string token_;
};

// token_file: re-read every kTokenFileCheckInterval; a changed token replaces the old one.
class TokenFileProvider final : public CachingProvider {
 public:
  TokenFileProvider(AuthEnv env, std::string path)
      : CachingProvider(std::move(env)), path_(std::move(path)), poll_timer_(env_.loop) {}

  void start() override {
    read();
    poll_timer_.startRepeating(kTokenFileCheckInterval, [this] { read(); });
  }

  void invalidate(const std::string& rejected) override {
    if (has_token_ && current_ == rejected) {
      previous_ = current_;
      dropToken();  // wait for the file to be read again: it may have been rotated just now
      read();
    }
  }
  bool canRefresh() const override { return true; }

 protected:
  void needToken() override { read(); }
  void stopFetching() override { poll_timer_.stop(); }

 private:
  void read() {
    if (reading_ || stopped_) {
      return;
    }
    reading_ = true;
    readSmallFileAsync(env_.loop, path_, kMaxSecretFileBytes, aliveToken(),
                       [this](Result<std::string> r) { onRead(std::move(r)); });
  }

  void onRead(Result<std::string> r) {
    reading_ = false;
    if (stopped_) {
      return;
    }
    std::string token = r ? trimTokenText(r.value()) : std::string();
    if (!r || token.empty()) {
      last_error_ = scrub(r ? fmt::format("token_file '{}' is empty", path_)
                            : fmt::format("token_file: {}", r.error().message));
      countRefresh(false);
      env_.log.logLimited(LogLevel::kWarn, env_.component + "/token_file", std::chrono::seconds(60),
                          env_.component,
                          fmt::format("Cannot use the token file: {}.", last_error_));
      if (!has_token_ && !previous_.empty()) {
        setToken(std::exchange(previous_, {}), Clock::Monotonic::max());
      }
      return;
    }
    previous_.clear();
    if (has_token_ && token == current_) {
      return;
    }
    if (has_token_ || loaded_once_) {
      env_.log.info(env_.component, "Reloaded the access token from '{}'.", path_);
    }
    loaded_once_ = true;
    countRefresh(true);
    setToken(std::move(token), Clock::Monotonic::max());
  }

  std::vector<std::string_view> secrets() const override { return {current_, previous_}; }

  std::string path_;
  Timer poll_timer_;
  bool reading_ = false;
  bool loaded_once_ = false;
  std::string previous_;  // the token a 401 rejected, used again if the file cannot be read
};

// client_secret: OAuth2 client credentials against Entra ID (spec 5.2).
class ClientSecretProvider final : public CachingProvider {
 public:
  ClientSecretProvider(AuthEnv env, AuthSettings settings)
      : CachingProvider(std::move(env)),
        settings_(std::move(settings)),
        endpoint_(tokenEndpoint(settings_.authority_host, settings_.tenant_id)),
        refresh_timer_(env_.loop) {}
  ~ClientSecretProvider() override {
    if (request_ != 0) {
      env_.http.cancel(request_);
    }
  }

  void start() override { refresh(); }

  void invalidate(const std::string& rejected) override {
    if (!has_token_ || current_ != rejected) {
      return;  // already replaced
    }
    dropToken();
    refreshSoon();
  }
  bool canRefresh() const override { return true; }

 protected:
  void needToken() override {
    if (!fetching_ && !refresh_timer_.active()) {
      refreshSoon();
    }
  }
  void stopFetching() override {
    refresh_timer_.stop();
    if (request_ != 0) {
      env_.http.cancel(request_);
      request_ = 0;
    }
    fetching_ = false;
  }

 private:
  // Refresh now, or as soon as kMinRefreshInterval has passed since the last attempt.
  void refreshSoon() {
    if (fetching_) {
      return;
    }
    const auto now = env_.clock.now();
    const auto earliest = last_attempt_ + kMinRefreshInterval;
    if (attempted_ && now < earliest) {
      auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(earliest - now);
      refresh_timer_.start(delay, [this] { refresh(); });
      return;
    }
    refresh();
  }

  void refresh() {
    if (fetching_ || stopped_) {
      return;
    }
    refresh_timer_.stop();
    fetching_ = true;
    attempted_ = true;
    last_attempt_ = env_.clock.now();
    if (!settings_.client_secret.file.empty()) {
      // Re-read the secret file each time: a rotated secret is picked up without a restart.
      readSmallFileAsync(env_.loop, settings_.client_secret.file, kMaxSecretFileBytes, aliveToken(),
                         [this](Result<std::string> r) {
                           if (!r) {
                             fail(fmt::format("client_secret_file: {}", r.error().message));
                             return;
                           }
                           std::string secret = trimTokenText(r.value());
                           if (secret.empty()) {
                             fail(fmt::format("client_secret_file '{}' is empty",
                                              settings_.client_secret.file));
                             return;
                           }
                           post(std::move(secret));
                         });
      return;
    }
    post(settings_.client_secret.value);
  }

  void post(std::string secret) {
    HttpRequest req;
    req.method = "POST";
    req.url = endpoint_;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Accept", "application/json"}};
    req.body = std::make_shared<const std::string>(
        clientCredentialsBody(settings_.client_id, secret, settings_.scope));
    sent_secret_ = std::move(secret);  // what the answer may echo
    req.timeout = std::chrono::seconds(30);
    req.connect_timeout = std::chrono::seconds(10);
    request_ = env_.http.start(std::move(req), [this](const HttpResponse& resp) {
      request_ = 0;
      onResponse(resp);
    });
  }

  void onResponse(const HttpResponse& resp) {
    fetching_ = false;
    if (stopped_) {
      return;
    }
    if (resp.status != 200) {
      fail(resp.status == 0 ? fmt::format("token request to '{}' failed: {}", endpoint_, resp.error)
                            : fmt::format("token request to '{}' failed: {}", endpoint_,
                                          tokenErrorSummary(resp.status, resp.body, secrets())));
      return;
    }
    auto parsed = parseTokenResponse(resp.body);
    if (!parsed) {
      fail(fmt::format("token request to '{}': {}", endpoint_, parsed.error().message));
      return;
    }
    failures_ = 0;
    countRefresh(true);
    const auto now = env_.clock.now();
    const TokenSchedule sched = scheduleToken(now, parsed->expires_in);
    if (parsed->expires_in_missing) {
      env_.log.warn(env_.component,
                    "The token endpoint did not say when the token expires; assuming one hour.");
    }
    env_.log.debug(
        env_.component, "Got an access token valid for {} s; refreshing in {} s.",
        parsed->expires_in.count(),
        std::chrono::duration_cast<std::chrono::seconds>(sched.refresh_at - now).count());
    refresh_timer_.start(std::chrono::duration_cast<std::chrono::milliseconds>(sched.refresh_at -
                                                                               now),
                         [this] { refresh(); });
    setToken(std::move(parsed->access_token), sched.usable_until);
  }

  void fail(const std::string& why) {
    fetching_ = false;
    ++failures_;
    last_error_ = scrub(why);
    countRefresh(false);
    const auto delay = refreshRetryDelay(failures_);
    const bool have = usable(env_.clock.now());
    env_.log.logLimited(
        have ? LogLevel::kWarn : LogLevel::kError, env_.component + "/token",
        std::chrono::seconds(30), env_.component,
        fmt::format("Cannot get an access token ({}); {}trying again in {} s.", last_error_,
                    have ? "the current token is still valid; " : "",
                    std::chrono::duration_cast<std::chrono::seconds>(delay).count()));
    refresh_timer_.start(delay, [this] { refresh(); });
  }

  std::vector<std::string_view> secrets() const override {
    return {settings_.client_secret.value, sent_secret_, current_};
  }

  AuthSettings settings_;
  std::string sent_secret_;  // the client secret of the last request (it may come from a file)
  std::string endpoint_;
  Timer refresh_timer_;
  HttpClient::RequestId request_ = 0;
  bool fetching_ = false;
  bool attempted_ = false;
  Clock::Monotonic last_attempt_{};
  unsigned failures_ = 0;
};

}  // namespace

std::unique_ptr<TokenProvider> makeTokenProvider(const AuthSettings& settings, AuthEnv env) {
  if (settings.method == "token") {
    if (!settings.token.file.empty()) {
      return std::make_unique<TokenFileProvider>(std::move(env), settings.token.file);
    }
    return std::make_unique<StaticTokenProvider>(settings.token.value);
  }
  if (settings.method == "client_secret") {
    return std::make_unique<ClientSecretProvider>(std::move(env), settings);
  }
  return std::make_unique<NoneProvider>();
}

}  // namespace ingestd::outputs::kusto
