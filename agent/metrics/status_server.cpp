// StatusServer: connections, timeouts and shutdown on the loop; the HTTP itself is in
// status_http.cpp.
#include "agent/metrics/status_server.h"

#include <exception>

#include "agent/core/assert.h"
#include "agent/metrics/status_http.h"

namespace ingestd {

namespace http = status_http;

// One accepted socket and its timer. Freed when both handles have closed (forget()).
struct StatusServer::Conn {
  // kHead: reading a request head (header_timeout). kIdle: keep-alive, waiting for the next
  // request (idle_timeout). kWriting: a response is on the wire, not reading (idle_timeout).
  // kLingering: answered with "Connection: close", write side shut down; reading and
  // discarding until the peer closes (header_timeout), so unread input cannot turn our close
  // into a reset that destroys the response.
  enum class Phase { kHead, kIdle, kWriting, kLingering };

  uv_tcp_t tcp{};
  uv_timer_t timer{};
  uv_write_t write_req{};
  uv_shutdown_t shutdown_req{};
  StatusServer* server = nullptr;
  std::string in;             // bytes read, not yet part of an answered request
  std::size_t scan_from = 0;  // findHeadEnd() resumes here
  std::string out;            // the response being written
  Phase phase = Phase::kHead;
  bool keep_alive = false;  // of the response being written
  bool reading = false;
  bool closing = false;
  bool served = false;   // counted in served_ (not rejected)
  int open_handles = 0;  // tcp and timer until their close callbacks ran

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp); }
};

bool splitHostPort(const std::string& address, std::string& host, int& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 >= address.size()) {
    return false;
  }
  host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  try {
    std::size_t used = 0;
    port = std::stoi(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1 || port < 0 || port > 65535) {
      return false;
    }
  } catch (...) {
    return false;
  }
  return !host.empty();
}

StatusServer::StatusServer(Loop& loop, Metrics& metrics, std::function<Readiness()> ready)
    : StatusServer(loop, metrics, StatusServerOptions{}, std::move(ready)) {}

StatusServer::StatusServer(Loop& loop, Metrics& metrics, StatusServerOptions options,
                           std::function<Readiness()> ready)
    : loop_(loop),
      metrics_(metrics),
      options_(options),
      ready_(std::move(ready)),
      // The status server's one metric, declared here with the component that owns it.
      rejected_(&prometheus::BuildCounter()
                     .Name("ingestd_status_connections_rejected_total")
                     .Help("Connections to the status server closed at once because "
                           "max_connections were being served.")
                     .Register(*metrics.registry())
                     .Add({})) {}

StatusServer::~StatusServer() {
  // Handles point at this object until their close callbacks ran: close() and its done() first.
  INGESTD_ASSERT(listener_ == nullptr && conns_.empty());
}

Status StatusServer::listen(const std::string& address) {
  INGESTD_ASSERT_ON_LOOP();
  INGESTD_CHECK(listener_ == nullptr && !closing_);
  std::string host;
  int port = 0;
  if (!splitHostPort(address, host, port)) {
    return makeError(ErrorCode::kInvalidArgument, "Bad listen address \"{}\".", address);
  }
  sockaddr_storage addr{};
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
    return makeError(ErrorCode::kInvalidArgument, "Bad listen address \"{}\".", address);
  }
  auto* listener = new uv_tcp_t;
  INGESTD_CHECK(uv_tcp_init(loop_.raw(), listener) == 0);
  listener->data = this;
  int rc = uv_tcp_bind(listener, reinterpret_cast<sockaddr*>(&addr), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener), 128, &StatusServer::onConnection);
  }
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    return makeError(ErrorCode::kIo, "Cannot listen on {} for /metrics: {}.", address,
                     uv_strerror(rc));
  }
  listener_ = listener;
  sockaddr_storage bound{};
  int len = sizeof(bound);
  uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return Status::ok();
}

void StatusServer::close(std::function<void()> done) {
  INGESTD_ASSERT_ON_LOOP();
  if (closing_) {  // a second close() finishes with the first
    done_ = [first = std::move(done_), second = std::move(done)] {
      if (first) {
        first();
      }
      second();
    };
    maybeDone();
    return;
  }
  closing_ = true;
  done_ = std::move(done);
  if (listener_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener_), [](uv_handle_t* h) {
      auto* self = static_cast<StatusServer*>(h->data);
      delete reinterpret_cast<uv_tcp_t*>(h);
      self->listener_ = nullptr;
      self->maybeDone();
    });
  }
  // closeConn() only starts closing; conns_ changes in close callbacks, not during this loop.
  for (Conn* c : conns_) {
    closeConn(*c);
  }
  maybeDone();
}

void StatusServer::maybeDone() {
  if (closing_ && listener_ == nullptr && conns_.empty() && done_) {
    auto done = std::move(done_);
    done_ = nullptr;
    done();
  }
}

void StatusServer::onConnection(uv_stream_t* listener, int status) noexcept {
  auto* self = static_cast<StatusServer*>(listener->data);
  // A failed accept (EMFILE, ...) has been dropped by libuv; the next connection may work.
  if (status == 0 && !self->closing_) {
    self->accept();
  }
}

void StatusServer::accept() {
  auto* c = new Conn;
  c->server = this;
  INGESTD_CHECK(uv_tcp_init(loop_.raw(), &c->tcp) == 0);
  INGESTD_CHECK(uv_timer_init(loop_.raw(), &c->timer) == 0);
  c->tcp.data = c;
  c->timer.data = c;
  c->write_req.data = c;
  c->shutdown_req.data = c;
  c->open_handles = 2;
  conns_.insert(c);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(listener_), c->stream()) != 0) {
    closeConn(*c);
    return;
  }
  if (served_ >= options_.max_connections) {
    rejected_->Increment();
    closeConn(*c);
    return;
  }
  c->served = true;
  ++served_;
  uv_tcp_nodelay(&c->tcp, 1);
  armTimer(*c, options_.header_timeout);
  startReading(*c);
}

void StatusServer::onAlloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) noexcept {
  auto* self = static_cast<Conn*>(handle->data)->server;
  *buf = uv_buf_init(self->read_buf_.data(), static_cast<unsigned>(self->read_buf_.size()));
}

void StatusServer::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* c = static_cast<Conn*>(stream->data);
  if (c->closing) {
    return;
  }
  if (nread < 0) {  // EOF or error
    c->server->closeConn(*c);
    return;
  }
  if (nread == 0 || c->phase == Conn::Phase::kLingering) {
    return;
  }
  c->in.append(buf->base, static_cast<std::size_t>(nread));
  c->server->process(*c);
}

// Answers the request at the front of c.in once its head is complete. At most one request per
// call: the next one (pipelined) is looked at when this response has been written.
void StatusServer::process(Conn& c) {
  if (auto skip = http::leadingEmptyLines(c.in); skip > 0) {
    c.in.erase(0, skip);
    c.scan_from = 0;
  }
  if (c.in.empty()) {
    return;
  }
  if (c.phase == Conn::Phase::kIdle) {
    c.phase = Conn::Phase::kHead;
    armTimer(c, options_.header_timeout);
  }
  auto end = http::findHeadEnd(c.in, c.scan_from);
  if ((end && *end > options_.max_head_bytes) || (!end && c.in.size() > options_.max_head_bytes)) {
    http::ResponseSpec spec;
    spec.code = 431;
    spec.body = "request head too large\n";
    spec.keep_alive = false;
    respond(c, http::formatResponse(spec), false);
    return;
  }
  if (!end) {
    c.scan_from = c.in.size() >= 2 ? c.in.size() - 2 : 0;
    return;
  }
  std::string head = c.in.substr(0, *end);
  c.in.erase(0, *end);
  c.scan_from = 0;
  answer(c, head);
}

void StatusServer::answer(Conn& c, std::string_view head_bytes) {
  const auto parsed = http::parseRequestHead(head_bytes);
  const auto& req = parsed.head;
  http::ResponseSpec spec;
  std::string body;
  if (parsed.error != 0) {
    spec.code = parsed.error;
    body = fmt::format("{}\n", http::reasonPhrase(parsed.error));
  } else if (req.path != "/metrics" && req.path != "/healthz" && req.path != "/readyz") {
    spec.code = 404;
    body = "not found\n";
  } else if (req.method != "GET" && req.method != "HEAD") {
    spec.code = 405;
    spec.allow_header = true;
    body = "method not allowed\n";
  } else {
    body = resource(req.path, spec);
  }
  const bool keep_alive = parsed.error == 0 && req.keep_alive && !req.has_body && !closing_;
  spec.body = body;
  spec.send_body = parsed.error != 0 || req.method != "HEAD";
  spec.keep_alive = keep_alive;
  respond(c, http::formatResponse(spec), keep_alive);
}

std::string StatusServer::resource(const std::string& path, http::ResponseSpec& spec) {
  try {
    if (path == "/metrics") {
      spec.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return metrics_.serialize();
    }
    if (path == "/healthz") {
      return "ok\n";
    }
    Readiness r = ready_ ? ready_() : Readiness{true, {}};
    spec.code = r.ready ? 200 : 503;
    return r.ready ? "ready\n" : (r.reason.empty() ? "not ready" : r.reason) + "\n";
  } catch (const std::exception& e) {  // nothing may escape into the libuv callback
    spec.code = 500;
    spec.content_type = "text/plain; charset=utf-8";
    return fmt::format("{}\n", e.what());
  }
}

void StatusServer::respond(Conn& c, std::string response, bool keep_alive) {
  c.out = std::move(response);
  c.keep_alive = keep_alive;
  c.phase = Conn::Phase::kWriting;
  stopReading(c);
  armTimer(c, options_.idle_timeout);
  uv_buf_t buf = uv_buf_init(c.out.data(), static_cast<unsigned>(c.out.size()));
  if (uv_write(&c.write_req, c.stream(), &buf, 1, &StatusServer::onWritten) != 0) {
    closeConn(c);
  }
}

void StatusServer::onWritten(uv_write_t* req, int status) noexcept {
  auto* c = static_cast<Conn*>(req->data);
  if (c->closing) {  // cancelled by closeConn()
    return;
  }
  if (status != 0) {
    c->server->closeConn(*c);
    return;
  }
  c->server->afterWrite(*c);
}

void StatusServer::afterWrite(Conn& c) {
  std::string().swap(c.out);  // a /metrics page is large; do not keep it per connection
  if (!c.keep_alive || closing_) {
    c.phase = Conn::Phase::kLingering;
    c.in.clear();
    int rc = uv_shutdown(&c.shutdown_req, c.stream(), [](uv_shutdown_t* req, int st) {
      auto* conn = static_cast<Conn*>(req->data);
      if (st != 0 && !conn->closing) {
        conn->server->closeConn(*conn);
      }
    });
    if (rc != 0) {
      closeConn(c);
      return;
    }
    armTimer(c, options_.header_timeout);
    startReading(c);
    return;
  }
  c.phase = Conn::Phase::kIdle;
  armTimer(c, options_.idle_timeout);
  startReading(c);
  if (!c.closing) {
    process(c);  // a pipelined request may already be here
  }
}

void StatusServer::startReading(Conn& c) {
  if (c.reading || c.closing) {
    return;
  }
  if (uv_read_start(c.stream(), &StatusServer::onAlloc, &StatusServer::onRead) != 0) {
    closeConn(c);
    return;
  }
  c.reading = true;
}

void StatusServer::stopReading(Conn& c) {
  if (c.reading) {
    uv_read_stop(c.stream());
    c.reading = false;
  }
}

void StatusServer::armTimer(Conn& c, std::chrono::milliseconds timeout) {
  uv_timer_start(&c.timer, &StatusServer::onTimeout, static_cast<std::uint64_t>(timeout.count()),
                 0);
}

void StatusServer::onTimeout(uv_timer_t* timer) noexcept {
  auto* c = static_cast<Conn*>(timer->data);
  c->server->closeConn(*c);
}

void StatusServer::closeConn(Conn& c) {
  if (c.closing) {
    return;
  }
  c.closing = true;
  c.reading = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), &StatusServer::onConnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&c.timer), &StatusServer::onConnHandleClosed);
}

void StatusServer::onConnHandleClosed(uv_handle_t* handle) noexcept {
  auto* c = static_cast<Conn*>(handle->data);
  if (--c->open_handles == 0) {
    c->server->forget(c);
  }
}

void StatusServer::forget(Conn* c) {
  conns_.erase(c);
  if (c->served) {
    --served_;
  }
  delete c;
  maybeDone();
}

}  // namespace ingestd
