// CurlHttpClient (agent/plugin/http.h's HttpClient): libcurl's multi-socket API on top of libuv.
// curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it
// (CURLMOPT_TIMERFUNCTION); we translate that into uv_poll_t handles and one uv_timer_t, and hand
// events back to curl.
#include "agent/http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <mutex>
#include <new>
#include <set>

#include "agent/core/assert.h"

namespace ingestd {

namespace {

constexpr std::string_view kComponent = "http";

void globalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Header values come from configuration and from records' metadata; a CR or LF would let them
// inject headers, so they become spaces.
std::string headerLine(std::string_view name, std::string_view value) {
  std::string line;
  line.reserve(name.size() + value.size() + 2);
  line.append(name);
  if (value.empty()) {
    line.push_back(':');  // curl: "Name:" removes the header
    return line;
  }
  line.append(": ");
  for (char c : value) {
    line.push_back(c == '\r' || c == '\n' ? ' ' : c);
  }
  return line;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool parseHttpHeaderLine(std::string_view line, std::string& name, std::string& value) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  if (line.empty() || line.starts_with("HTTP/") || line.front() == ' ' || line.front() == '\t') {
    return false;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  name.clear();
  for (char c : line.substr(0, colon)) {
    name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::string_view v = line.substr(colon + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
    v.remove_prefix(1);
  }
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
    v.remove_suffix(1);
  }
  value.assign(v);
  return true;
}

// The libuv handles of one client. They may outlive the client (their close callbacks run on a
// later loop iteration), so they live in their own allocation, freed by the last close callback
// or by the client's destructor, whichever comes last.
struct CurlHttpClient::Handles {
  uv_timer_t timer{};
  CurlHttpClient* owner = nullptr;  // null once the client is destroyed
  std::size_t open = 0;             // handles initialised and not yet through uv_close
  std::set<void*> sockets;          // SocketContexts with an open uv_poll_t
  std::function<void()> on_all_closed;
};

struct CurlHttpClient::Transfer {
  RequestId id = 0;
  CurlHttpClient* owner = nullptr;
  CURL* easy = nullptr;
  bool attached = false;  // added to the multi handle
  curl_slist* headers = nullptr;
  std::shared_ptr<const std::string> body;
  std::function<void(HttpResponse)> done;
  HttpResponse response;
  std::size_t max_body = 0;
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    if (easy != nullptr) {
      curl_easy_cleanup(easy);
    }
    if (headers != nullptr) {
      curl_slist_free_all(headers);
    }
  }
};

// Callbacks handed to libcurl and libuv. All noexcept: nothing may unwind through C frames.
struct HttpClientCallbacks {
  struct SocketContext {
    uv_poll_t poll{};
    curl_socket_t fd = CURL_SOCKET_BAD;
    CurlHttpClient::Handles* handles = nullptr;
  };

  static void handleClosed(CurlHttpClient::Handles* h) noexcept {
    INGESTD_CHECK(h->open > 0);
    --h->open;
    if (h->open != 0) {
      return;
    }
    auto done = std::move(h->on_all_closed);
    h->on_all_closed = nullptr;
    if (h->owner == nullptr) {
      delete h;  // the client is gone: we are the last user
    }
    if (done) {
      try {
        done();
      } catch (...) {
        // Nothing sensible to do inside a close callback; the caller's bug.
      }
    }
  }

  static void closeSocket(SocketContext* ctx) noexcept {
    uv_poll_stop(&ctx->poll);
    ctx->handles->sockets.erase(ctx);
    uv_close(reinterpret_cast<uv_handle_t*>(&ctx->poll), [](uv_handle_t* handle) {
      auto* c = static_cast<SocketContext*>(handle->data);
      CurlHttpClient::Handles* h = c->handles;
      delete c;
      handleClosed(h);
    });
  }

  static void onPoll(uv_poll_t* handle, int status, int events) noexcept {
    auto* ctx = static_cast<SocketContext*>(handle->data);
    CurlHttpClient* owner = ctx->handles->owner;
    if (owner == nullptr) {
      return;
    }
    int flags = 0;
    if (status < 0) {
      flags = CURL_CSELECT_ERR;
    } else {
      if ((events & UV_READABLE) != 0) {
        flags |= CURL_CSELECT_IN;
      }
      if ((events & UV_WRITABLE) != 0) {
        flags |= CURL_CSELECT_OUT;
      }
    }
    // May close ctx (CURL_POLL_REMOVE); ctx is not used after this.
    owner->socketAction(ctx->fd, flags);
  }

  static int onSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* userp,
                      void* socketp) noexcept {
    auto* self = static_cast<CurlHttpClient*>(userp);
    auto* ctx = static_cast<SocketContext*>(socketp);
    if (what == CURL_POLL_REMOVE) {
      if (ctx != nullptr) {
        curl_multi_assign(static_cast<CURLM*>(self->multi_), fd, nullptr);
        closeSocket(ctx);
      }
      return 0;
    }
    if (ctx == nullptr) {
      ctx = new (std::nothrow) SocketContext;
      if (ctx == nullptr) {
        return -1;  // out of memory: curl fails the transfers on this socket
      }
      ctx->fd = fd;
      ctx->handles = self->handles_;
      int rc = uv_poll_init_socket(self->loop_.raw(), &ctx->poll, fd);
      if (rc != 0) {
        self->log_.error(kComponent, "Cannot watch socket {}: {}.", fd, uv_strerror(rc));
        delete ctx;
        return -1;  // curl fails the transfers on this socket
      }
      ctx->poll.data = ctx;
      ++self->handles_->open;
      self->handles_->sockets.insert(ctx);
      curl_multi_assign(static_cast<CURLM*>(self->multi_), fd, ctx);
    }
    int events = 0;
    if ((what & CURL_POLL_IN) != 0) {
      events |= UV_READABLE;
    }
    if ((what & CURL_POLL_OUT) != 0) {
      events |= UV_WRITABLE;
    }
    uv_poll_start(&ctx->poll, events, &onPoll);
    return 0;
  }

  static void onTimeout(uv_timer_t* timer) noexcept {
    auto* h = static_cast<CurlHttpClient::Handles*>(timer->data);
    if (h->owner != nullptr) {
      h->owner->socketAction(CURL_SOCKET_TIMEOUT, 0);
    }
  }

  static int onTimer(CURLM* /*multi*/, long timeout_ms, void* userp) noexcept {
    auto* self = static_cast<CurlHttpClient*>(userp);
    uv_timer_t* timer = &self->handles_->timer;
    if (timeout_ms < 0) {
      uv_timer_stop(timer);
    } else {
      // 0 means "as soon as possible"; curl must not be re-entered from here, so a 0 ms timer.
      uv_timer_start(timer, &onTimeout, static_cast<std::uint64_t>(timeout_ms), 0);
    }
    return 0;
  }

  static std::size_t onWrite(char* data, std::size_t size, std::size_t n, void* userp) noexcept {
    auto* t = static_cast<CurlHttpClient::Transfer*>(userp);
    std::size_t bytes = size * n;
    std::string& body = t->response.body;
    if (body.size() < t->max_body) {
      try {
        body.append(data, std::min(bytes, t->max_body - body.size()));
      } catch (...) {
        return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
      }
    }
    return bytes;
  }

  static std::size_t onHeader(char* data, std::size_t size, std::size_t n, void* userp) noexcept {
    auto* t = static_cast<CurlHttpClient::Transfer*>(userp);
    std::size_t bytes = size * n;
    std::string_view line(data, bytes);
    try {
      if (line.starts_with("HTTP/")) {
        t->response.headers.clear();  // a new response (after 100 Continue, or a redirect)
        return bytes;
      }
      std::string name;
      std::string value;
      if (parseHttpHeaderLine(line, name, value)) {
        t->response.headers[std::move(name)] = std::move(value);
      }
    } catch (...) {
      return 0;
    }
    return bytes;
  }

  // The transfer's options: protocol, timeouts, TLS, proxy and the callbacks above.
  static void setOptions(CURL* e, CurlHttpClient::Transfer& t, const HttpRequest& request,
                         const HttpClientOptions& options) {
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 15L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    // Blocks are up to a few MiB: larger upload chunks mean fewer send() calls per request.
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(request.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
    if (!options.ca_file.empty()) {
      curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_file.c_str());
    }
    if (!options.proxy.empty()) {
      curl_easy_setopt(e, CURLOPT_PROXY, options.proxy.c_str());
    }
    if (!options.user_agent.empty()) {
      curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
    }
    if (!request.accept_encoding.empty()) {
      curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, request.accept_encoding.c_str());
    }
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpClientCallbacks::onWrite);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &HttpClientCallbacks::onHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
  }

  // Request headers (no "Expect: 100-continue" round trip for bodies) and the method and body.
  // The body is not copied: it stays alive in t.body until the transfer ends.
  static void setHeadersAndBody(CURL* e, CurlHttpClient::Transfer& t, const HttpRequest& request) {
    bool has_expect = false;
    for (const auto& [name, value] : request.headers) {
      has_expect = has_expect || iequals(name, "expect");
      t.headers = curl_slist_append(t.headers, headerLine(name, value).c_str());
    }
    const bool has_body = t.body != nullptr;
    if (has_body && !has_expect) {
      t.headers = curl_slist_append(t.headers, "Expect:");  // no 100-continue round trip
    }
    if (t.headers != nullptr) {
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
    }

    static const std::string kEmpty;
    const std::string& body = has_body ? *t.body : kEmpty;
    if (request.method == "GET" && !has_body) {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (request.method != "POST") {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      }
      if (request.method == "POST" || has_body) {
        // POSTFIELDS does not copy: the body stays alive in t.body until the transfer ends.
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
      }
    }
  }
};

CurlHttpClient::CurlHttpClient(Loop& loop, Logger& log, HttpClientOptions options)
    : loop_(loop),
      log_(log),
      options_(std::move(options)),
      handles_(new Handles),
      self_(std::make_shared<CurlHttpClient*>(this)) {
  globalInitOnce();
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  if (info == nullptr || (info->features & CURL_VERSION_ASYNCHDNS) == 0) {
    log_.warn(kComponent,
              "libcurl {} resolves host names synchronously: a slow DNS server will stall the "
              "event loop. Install a libcurl built with the threaded resolver or c-ares.",
              info != nullptr ? info->version : "?");
  }

  handles_->owner = this;
  INGESTD_CHECK(uv_timer_init(loop_.raw(), &handles_->timer) == 0);
  handles_->timer.data = handles_;
  handles_->open = 1;

  CURLM* multi = curl_multi_init();
  INGESTD_CHECK(multi != nullptr);
  multi_ = multi;
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &HttpClientCallbacks::onSocket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &HttpClientCallbacks::onTimer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    static_cast<long>(options_.max_connections_per_host));
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS,
                    static_cast<long>(std::max<std::size_t>(options_.max_cached_connections, 1)));
}

CurlHttpClient::~CurlHttpClient() {
  if (!closed_) {
    close(nullptr);
  }
  handles_->owner = nullptr;
  if (handles_->open == 0) {
    delete handles_;
  }
  // Otherwise the last close callback frees handles_.
}

HttpClient::RequestId CurlHttpClient::start(HttpRequest request,
                                            std::function<void(HttpResponse)> done) {
  INGESTD_ASSERT_ON_LOOP();
  RequestId id = next_id_++;
  auto owned = std::make_unique<Transfer>();
  Transfer& t = *owned;
  t.id = id;
  t.owner = this;
  t.done = std::move(done);
  t.body = std::move(request.body);
  t.max_body = options_.max_response_bytes;
  transfers_.emplace(id, std::move(owned));

  if (closed_) {
    failSoon(id, CURLE_FAILED_INIT, "the HTTP client is closed");
    return id;
  }
  CURL* e = curl_easy_init();
  if (e == nullptr) {
    failSoon(id, CURLE_FAILED_INIT, "curl_easy_init failed");
    return id;
  }
  t.easy = e;
  HttpClientCallbacks::setOptions(e, t, request, options_);
  HttpClientCallbacks::setHeadersAndBody(e, t, request);

  CURLMcode mc = curl_multi_add_handle(static_cast<CURLM*>(multi_), e);
  if (mc != CURLM_OK) {
    failSoon(id, CURLE_FAILED_INIT, curl_multi_strerror(mc));
    return id;
  }
  t.attached = true;
  t.response.duration = std::chrono::microseconds(0);
  return id;
}

void CurlHttpClient::failSoon(RequestId id, int curl_code, std::string error) {
  auto it = transfers_.find(id);
  INGESTD_CHECK(it != transfers_.end());
  it->second->response.curl_code = curl_code;
  it->second->response.error = std::move(error);
  std::weak_ptr<CurlHttpClient*> weak = self_;
  loop_.post([weak, id] {
    auto self = weak.lock();
    if (!self) {
      return;
    }
    CurlHttpClient* client = *self;
    auto found = client->transfers_.find(id);
    if (found == client->transfers_.end()) {
      return;  // cancelled
    }
    auto t = std::move(found->second);
    client->transfers_.erase(found);
    client->detach(*t);
    auto done = std::move(t->done);
    HttpResponse response = std::move(t->response);
    t.reset();
    if (done) {
      try {
        done(std::move(response));
      } catch (const std::exception& e) {
        client->log_.error(kComponent, "An HTTP completion handler threw: {}.", e.what());
      } catch (...) {
        client->log_.error(kComponent, "An HTTP completion handler threw.");
      }
    }
  });
}

void CurlHttpClient::detach(Transfer& t) {
  if (t.attached && multi_ != nullptr) {
    curl_multi_remove_handle(static_cast<CURLM*>(multi_), t.easy);
  }
  t.attached = false;
}

void CurlHttpClient::cancel(RequestId id) {
  INGESTD_ASSERT_ON_LOOP();
  auto it = transfers_.find(id);
  if (it == transfers_.end()) {
    return;
  }
  auto t = std::move(it->second);
  transfers_.erase(it);
  detach(*t);
}

void CurlHttpClient::socketAction(int fd, int flags) noexcept {
  if (multi_ == nullptr) {
    return;
  }
  int running = 0;
  curl_multi_socket_action(static_cast<CURLM*>(multi_), fd, flags, &running);
  completeFinished();
}

void CurlHttpClient::completeFinished() noexcept {
  // First take every finished transfer out of curl, then run the completions: a completion may
  // start, cancel or close, which must not happen while we walk curl's message queue.
  std::vector<RequestId> finished;
  CURLMsg* msg = nullptr;
  int left = 0;
  auto* multi = static_cast<CURLM*>(multi_);
  while (multi != nullptr && (msg = curl_multi_info_read(multi, &left)) != nullptr) {
    if (msg->msg != CURLMSG_DONE) {
      continue;
    }
    CURL* easy = msg->easy_handle;
    CURLcode code = msg->data.result;  // read before remove_handle frees msg
    char* priv = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    auto* t = reinterpret_cast<Transfer*>(priv);
    HttpResponse& r = t->response;
    r.curl_code = static_cast<int>(code);
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      r.status = status;
    } else {
      r.status = 0;
      r.error = t->error[0] != '\0' ? std::string(t->error) : curl_easy_strerror(code);
    }
    curl_off_t total_us = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
    r.duration = std::chrono::microseconds(total_us);
    long connects = 0;
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
    r.reused_connection = connects == 0;
    connections_opened_ += static_cast<std::uint64_t>(connects);
    detach(*t);
    finished.push_back(t->id);
  }
  for (RequestId id : finished) {
    auto it = transfers_.find(id);
    if (it == transfers_.end()) {
      continue;  // cancelled (or the client closed) by an earlier completion
    }
    auto t = std::move(it->second);
    transfers_.erase(it);
    auto done = std::move(t->done);
    HttpResponse response = std::move(t->response);
    t.reset();
    if (!done) {
      continue;
    }
    try {
      done(std::move(response));
    } catch (const std::exception& e) {
      log_.error(kComponent, "An HTTP completion handler threw: {}.", e.what());
    } catch (...) {
      log_.error(kComponent, "An HTTP completion handler threw.");
    }
  }
}

void CurlHttpClient::close(std::function<void()> done) {
  if (closed_) {
    if (!done) {
      return;
    }
    if (handles_->open == 0) {
      done();
      return;
    }
    auto previous = std::move(handles_->on_all_closed);
    handles_->on_all_closed = [previous = std::move(previous), done = std::move(done)] {
      if (previous) {
        previous();
      }
      done();
    };
    return;
  }
  closed_ = true;
  for (auto& [id, t] : transfers_) {
    detach(*t);
  }
  transfers_.clear();
  uv_timer_stop(&handles_->timer);
  // Cleaning up the multi handle closes the cached connections; curl reports each socket with
  // CURL_POLL_REMOVE, which closes its uv_poll_t.
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
  multi_ = nullptr;
  // Any poll curl did not report (it should have) is closed here.
  std::vector<void*> rest(handles_->sockets.begin(), handles_->sockets.end());
  for (void* ctx : rest) {
    HttpClientCallbacks::closeSocket(static_cast<HttpClientCallbacks::SocketContext*>(ctx));
  }
  handles_->on_all_closed = std::move(done);
  uv_close(reinterpret_cast<uv_handle_t*>(&handles_->timer), [](uv_handle_t* handle) {
    HttpClientCallbacks::handleClosed(static_cast<Handles*>(handle->data));
  });
}

}  // namespace ingestd
