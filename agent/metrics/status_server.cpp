// StatusServer implementation.
#include "agent/metrics/status_server.h"

#include <cstring>

namespace ingestd {

struct StatusServer::Conn {
  uv_tcp_t handle{};
  StatusServer* server = nullptr;
  std::string in;
  bool closing = false;
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

StatusServer::StatusServer(Loop& loop, Metrics& metrics, std::function<bool()> ready)
    : loop_(loop), metrics_(metrics), ready_(std::move(ready)) {}

StatusServer::~StatusServer() = default;

Status StatusServer::listen(const std::string& address) {
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
  server_ = new uv_tcp_t;
  uv_tcp_init(loop_.raw(), server_);
  server_->data = this;
  int rc = uv_tcp_bind(server_, reinterpret_cast<sockaddr*>(&addr), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(server_), 64, &StatusServer::onConnection);
  }
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(server_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    server_ = nullptr;
    return makeError(ErrorCode::kIo, "Cannot listen on {} for /metrics: {}.", address,
                     uv_strerror(rc));
  }
  sockaddr_storage bound{};
  int len = sizeof(bound);
  uv_tcp_getsockname(server_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6
                    ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return Status::ok();
}

void StatusServer::onConnection(uv_stream_t* server, int status) {
  if (status != 0) {
    return;
  }
  auto* self = static_cast<StatusServer*>(server->data);
  auto* conn = new Conn;
  conn->server = self;
  uv_tcp_init(self->loop_.raw(), &conn->handle);
  conn->handle.data = conn;
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&conn->handle)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&conn->handle),
             [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
    return;
  }
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&conn->handle),
      [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
        buf->base = new char[suggested];
        buf->len = suggested;
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* c = static_cast<Conn*>(stream->data);
        if (nread > 0) {
          c->in.append(buf->base, static_cast<std::size_t>(nread));
        }
        delete[] buf->base;
        if (nread < 0 || c->in.size() > 16384) {
          if (!c->closing) {
            c->closing = true;
            uv_close(reinterpret_cast<uv_handle_t*>(&c->handle),
                     [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
          }
          return;
        }
        if (c->in.find("\r\n\r\n") != std::string::npos) {
          c->server->handle(*c);
        }
      });
}

void StatusServer::handle(Conn& conn) {
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&conn.handle));
  std::string path;
  auto sp1 = conn.in.find(' ');
  auto sp2 = sp1 == std::string::npos ? sp1 : conn.in.find(' ', sp1 + 1);
  if (sp2 != std::string::npos) {
    path = conn.in.substr(sp1 + 1, sp2 - sp1 - 1);
  }
  if (auto q = path.find('?'); q != std::string::npos) {
    path.resize(q);
  }
  int code = 200;
  std::string body;
  std::string type = "text/plain; charset=utf-8";
  if (path == "/metrics") {
    body = metrics_.serialize();
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else if (path == "/healthz") {
    body = "ok\n";
  } else if (path == "/readyz") {
    bool ok = !ready_ || ready_();
    code = ok ? 200 : 503;
    body = ok ? "ready\n" : "not ready\n";
  } else {
    code = 404;
    body = "not found\n";
  }
  auto* out = new std::string(fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
      code, code == 200 ? "OK" : (code == 404 ? "Not Found" : "Service Unavailable"), type,
      body.size()));
  *out += body;
  auto* req = new uv_write_t;
  req->data = out;
  uv_buf_t buf = uv_buf_init(out->data(), static_cast<unsigned>(out->size()));
  uv_write(req, reinterpret_cast<uv_stream_t*>(&conn.handle), &buf, 1,
           [](uv_write_t* r, int) {
             delete static_cast<std::string*>(r->data);
             auto* c = static_cast<Conn*>(r->handle->data);
             delete r;
             if (!c->closing) {
               c->closing = true;
               uv_close(reinterpret_cast<uv_handle_t*>(&c->handle),
                        [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
             }
           });
}

void StatusServer::close(std::function<void()> done) {
  if (server_ == nullptr) {
    done();
    return;
  }
  auto* cb = new std::function<void()>(std::move(done));
  server_->data = cb;
  uv_close(reinterpret_cast<uv_handle_t*>(server_), [](uv_handle_t* h) {
    auto* fn = static_cast<std::function<void()>*>(h->data);
    delete reinterpret_cast<uv_tcp_t*>(h);
    (*fn)();
    delete fn;
  });
  server_ = nullptr;
}

}  // namespace ingestd
