// KustoOutput: the loop-side state of the kusto output (sends in flight, the token provider, the
// HTTP client). URL and header building and response classification are pure functions in
// kusto_request.cpp and kusto_classify.cpp.
#include "plugins/outputs/kusto/kusto_output.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "agent/core/assert.h"
#include "agent/core/scrub.h"

#ifndef INGESTD_VERSION
#define INGESTD_VERSION "0.0.0"
#endif

namespace ingestd::outputs {

namespace {

std::string osUser() {
  if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') {
    return u;
  }
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[1024];
  if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && *found->pw_name != '\0') {
    return found->pw_name;
  }
  return "[none]";
}

HttpClientOptions httpOptions(const KustoOutput::Settings& s) {
  HttpClientOptions o;
  o.ca_file = s.ca_file;
  o.verify_tls = s.tls_verify;
  o.proxy = s.proxy;
  // concurrency requests to the cluster plus the token endpoint; curl queues anything beyond.
  o.max_connections_per_host = s.concurrency + 2;
  o.max_cached_connections = s.concurrency + 4;
  o.user_agent = fmt::format("ingestd/{}", INGESTD_VERSION);
  return o;
}

}  // namespace

Result<std::unique_ptr<Output>> KustoOutput::create(const Settings& settings, PluginContext& ctx) {
  return std::unique_ptr<Output>(std::make_unique<KustoOutput>(settings, ctx));
}

KustoOutput::KustoOutput(const Settings& settings, PluginContext& ctx)
    : settings_(settings),
      ctx_(ctx),
      component_(fmt::format("output {}", ctx.instance)),
      url_(kusto::ingestUrl(settings.endpoint, settings.database, settings.table, settings.format,
                            settings.mapping)),
      http_(ctx.httpClient(httpOptions(settings))) {
  identity_.request_id_prefix = settings_.request_id_prefix;
  identity_.app = settings_.app_name;
  identity_.user = osUser();
  identity_.client_version = kusto::clientVersionHeader(INGESTD_VERSION, kusto::compilerRuntime());
  classify_.database = settings_.database;
  classify_.table = settings_.table;
  classify_.mapping = settings_.mapping;
  classify_.format = settings_.format;
  classify_.max_retry_after = settings_.retry_after_max;
  provider_ =
      kusto::makeTokenProvider(settings_.auth, kusto::AuthEnv{ctx.loop, ctx.log, ctx.clock, *http_,
                                                              component_, ctx.output_metrics});
}

KustoOutput::~KustoOutput() {
  if (!stopped_) {
    stopped_ = true;
    provider_->stop();
  }
  provider_.reset();
  // http_ closes its handles in its destructor if stop() did not.
}

Status KustoOutput::start() {
  INGESTD_ASSERT_ON_LOOP();
  ctx_.log.info(component_,
                "Sending to {} database '{}' table '{}' (format {}{}), auth {}, timeout {} s.",
                settings_.endpoint, settings_.database, settings_.table, settings_.format,
                settings_.mapping.empty() ? std::string()
                                          : fmt::format(", mapping '{}'", settings_.mapping),
                settings_.auth.method,
                std::chrono::duration_cast<std::chrono::seconds>(settings_.timeout).count());
  const bool json = settings_.format == "multijson" || settings_.format == "json";
  if (json && settings_.mapping.empty()) {
    ctx_.log.warn(component_,
                  "No mapping is set for format {}: the service maps JSON fields to columns of "
                  "the same name, if it accepts the request at all. Create a JSON ingestion "
                  "mapping on table '{}' and set mapping:.",
                  settings_.format, settings_.table);
  }
  if (!settings_.tls_verify) {
    ctx_.log.warn(component_, "TLS certificate verification is off (tls.verify: false).");
  }
  auto url = kusto::parseClusterUrl(settings_.endpoint);
  if (settings_.auth.method == "none" && url && !kusto::isLoopbackHost(url->host)) {
    ctx_.log.warn(component_,
                  "auth method is none: requests carry no credentials, which a real cluster "
                  "answers with 401.");
  }
  if (settings_.auth.method != "none" && url && url->scheme == "http") {
    ctx_.log.warn(component_, "Credentials are sent over plain http:// to '{}'.", url->host);
  }
  provider_->start();
  return Status::ok();
}

bool KustoOutput::ready() const { return !stopped_ && provider_->ready(); }

void KustoOutput::send(Payload payload, std::function<void(SendOutcome)> done) {
  INGESTD_ASSERT_ON_LOOP();
  INGESTD_CHECK(!stopped_);
  INGESTD_CHECK(payload.body != nullptr);
  const std::uint64_t id = next_send_++;
  sends_.emplace(id, Send{std::move(payload), std::move(done)});
  in_send_ = true;
  const Send& s = sends_.at(id);
  if (s.payload.body->size() > kMaxRequestBody) {
    SendOutcome out;
    out.delivery = Delivery::kRejected;
    out.error_code = "PayloadTooLarge";
    out.message = fmt::format(
        "The compressed block is {} bytes; a streaming request may carry "
        "at most {} bytes.",
        s.payload.body->size(), kMaxRequestBody);
    finish(id, std::move(out));
  } else {
    attempt(id);
  }
  in_send_ = false;
}

void KustoOutput::attempt(std::uint64_t id) {
  std::weak_ptr<int> alive = alive_;
  provider_->get([this, id, alive](Result<std::string> token) {
    if (alive.expired() || sends_.find(id) == sends_.end()) {
      return;
    }
    if (!token) {
      SendOutcome out;
      out.delivery = Delivery::kRetry;
      out.error_code = "NoAccessToken";
      out.message = token.error().message;
      if (!out.message.empty() && out.message.back() != '.') {
        out.message.push_back('.');
      }
      finish(id, std::move(out));
      return;
    }
    request(id, token.value());
  });
}

void KustoOutput::request(std::uint64_t id, const std::string& token) {
  Send& s = sends_.at(id);
  HttpRequest req;
  req.method = "POST";
  req.url = url_;
  req.headers = kusto::ingestHeaders(identity_, s.payload.block_id, s.payload.attempt, token);
  req.accept_encoding = std::string(kusto::kAcceptEncoding);
  req.body = s.payload.body;  // shared, not copied
  req.timeout = settings_.timeout;
  req.connect_timeout = settings_.connect_timeout;
  std::weak_ptr<int> alive = alive_;
  s.request = http_->start(std::move(req), [this, id, token, alive](HttpResponse response) {
    if (alive.expired()) {
      return;
    }
    onResponse(id, token, std::move(response));
  });
}

void KustoOutput::onResponse(std::uint64_t id, const std::string& token, HttpResponse response) {
  auto it = sends_.find(id);
  if (it == sends_.end()) {
    return;
  }
  Send& s = it->second;
  s.request = 0;
  if (response.status == 401 && !s.auth_retried && provider_->canRefresh()) {
    if (ctx_.output_metrics != nullptr) {
      ctx_.output_metrics->requests(401, "Unauthorized").Increment();
    }
    // The token may have been revoked or rotated: fetch a new one and try once more.
    s.auth_retried = true;
    ctx_.log.logLimited(LogLevel::kWarn, component_ + "/401", std::chrono::seconds(30), component_,
                        "The cluster answered 401 Unauthorized; refreshing the access token "
                        "and retrying once.");
    provider_->invalidate(token);
    attempt(id);
    return;
  }
  if (response.status != 200 && !token.empty()) {
    // A cluster or proxy may echo the request, Authorization header included, in its error:
    // the token is taken out before the body is cut short into a message.
    const std::vector<std::string_view> secrets{token};
    response.body = scrubSecrets(response.body, secrets);
    response.error = scrubSecrets(response.error, secrets);
    for (auto& [name, value] : response.headers) {
      value = scrubSecrets(value, secrets);
    }
  }
  kusto::ResponseView view;
  view.status = response.status;
  view.curl_code = response.curl_code;
  view.transport_error = response.error;
  view.body = response.body;
  view.headers = &response.headers;
  SendOutcome out = kusto::classifyResponse(view, classify_, ctx_.clock.wallNow());
  if (out.delivery != Delivery::kDelivered && !token.empty()) {
    out.error_code = scrubSecrets(out.error_code, {token});
    out.message = scrubSecrets(out.message, {token});
  }
  if (ctx_.output_metrics != nullptr) {
    const bool ok = out.delivery == Delivery::kDelivered;
    ctx_.output_metrics->requests(static_cast<int>(response.status), ok ? "" : out.error_code)
        .Increment();
  }
  if (out.delivery != Delivery::kDelivered) {
    ctx_.log.debug(component_, "Block {} attempt {}: {} {} {}", s.payload.block_id,
                   s.payload.attempt, out.http_status, out.error_code, out.message);
  }
  finish(id, std::move(out));
}

void KustoOutput::finish(std::uint64_t id, SendOutcome outcome) {
  auto it = sends_.find(id);
  if (it == sends_.end()) {
    return;
  }
  auto done = std::move(it->second.done);
  sends_.erase(it);
  if (!done) {
    return;
  }
  if (in_send_) {
    // Never complete inside send(): the caller is still in the middle of its own bookkeeping.
    std::weak_ptr<int> alive = alive_;
    ctx_.post([done = std::move(done), outcome = std::move(outcome), alive]() mutable {
      if (!alive.expired()) {
        done(std::move(outcome));
      }
    });
    return;
  }
  done(std::move(outcome));
}

void KustoOutput::stop(std::function<void()> done) {
  INGESTD_ASSERT_ON_LOOP();
  if (!stopped_) {
    stopped_ = true;
    for (auto& [id, s] : sends_) {
      if (s.request != 0) {
        http_->cancel(s.request);
      }
    }
    sends_.clear();  // their done() is not called: stop() cancels them
    provider_->stop();
    alive_.reset();
  }
  http_->close(std::move(done));
}

}  // namespace ingestd::outputs
