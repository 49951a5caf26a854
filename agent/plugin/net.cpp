// Stream and datagram sockets behind the plugin API: uv_tcp_t, uv_pipe_t and uv_udp_t, each in a
// heap State that its close callback frees.
#include "agent/plugin/net.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <uv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include <fmt/format.h>

#include "agent/core/assert.h"
#include "agent/loop/loop.h"

namespace ingestd {

namespace {

constexpr std::size_t kReadBytes = std::size_t{64} * 1024;
constexpr int kBacklog = 511;

// Reads are delivered synchronously and only on the loop thread: one buffer per thread serves
// every stream and datagram socket, instead of 64 KiB per idle connection.
char* readBuffer() {
  thread_local std::array<char, kReadBytes> buf;
  return buf.data();
}

void allocRead(uv_handle_t*, std::size_t, uv_buf_t* buf) noexcept {
  *buf = uv_buf_init(readBuffer(), static_cast<unsigned>(kReadBytes));
}

Error uvError(int rc, std::string what) {
  ErrorCode code = ErrorCode::kNetwork;
  if (rc == UV_EADDRINUSE || rc == UV_EADDRNOTAVAIL || rc == UV_EMFILE || rc == UV_ENFILE ||
      rc == UV_ENOBUFS) {
    code = ErrorCode::kUnavailable;
  } else if (rc == UV_EACCES || rc == UV_EPERM) {
    code = ErrorCode::kPermissionDenied;
  } else if (rc == UV_EINVAL) {
    code = ErrorCode::kInvalidArgument;
  }
  return Error{code, fmt::format("{}: {}.", what, uv_strerror(rc))};
}

Status parseAddress(const std::string& ip, int port, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (port < 0 || port > 65535) {
    return makeError(ErrorCode::kInvalidArgument, "Port {} is out of range (0-65535).", port);
  }
  if (uv_ip4_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in*>(&out)) == 0 ||
      uv_ip6_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out)) == 0) {
    return Status::ok();
  }
  return makeError(ErrorCode::kInvalidArgument,
                   "\"{}\" is not an IP address (expected e.g. 127.0.0.1 or ::1).", ip);
}

// "1.2.3.4:80" or "[::1]:80"; "" when the address is not IPv4 or IPv6.
std::string formatAddress(const sockaddr* sa) {
  char name[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    uv_ip4_name(in, name, sizeof name);
    return fmt::format("{}:{}", name, ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    uv_ip6_name(in6, name, sizeof name);
    return fmt::format("[{}]:{}", name, ntohs(in6->sin6_port));
  }
  return {};
}

int portOf(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  }
  if (ss.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  }
  return 0;
}

// Runs done(error) on the loop thread soon, unless the object behind `alive` closed first:
// failures found inside a call are reported like any other, never inside that call.
void failSoon(Loop& loop, std::weak_ptr<int> alive, std::function<void(Status)> done, Error error) {
  if (!done) {
    return;
  }
  loop.post([alive = std::move(alive), done = std::move(done), error = std::move(error)] {
    if (!alive.expired()) {
      done(error);
    }
  });
}

struct WriteReq {
  uv_write_t req{};
  std::string data;
  std::function<void(Status)> done;
};

struct UdpSendReq {
  uv_udp_send_t req{};
  std::string data;
  std::function<void(Status)> done;
};

}  // namespace

// --- StreamConnection ---------------------------------------------------------------------------

struct StreamConnection::State {
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_tty_t tty;
  } h{};
  uv_connect_t connect_req{};
  Loop* loop = nullptr;
  std::shared_ptr<int> alive = std::make_shared<int>(0);  // reset by close()
  std::string peer;
  bool connected = false;  // accepted, or connect succeeded: reads may start
  std::function<void(Status)> on_connected;
  std::function<void(std::string_view)> on_data;
  std::function<void(Status)> on_end;
  std::function<void()> on_closed;
  bool closing = false;
  bool reading = false;  // read() was called and on_end has not run
  bool paused = false;

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&h); }
  uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&h); }

  void startRead() {
    int rc = uv_read_start(stream(), &allocRead, &State::onRead);
    if (rc != 0) {
      end(uvError(rc, fmt::format("Cannot read from {}", peer)));
    }
  }

  void end(Status status) {
    reading = false;
    uv_read_stop(stream());
    // The callbacks stay alive until the close callback: one of them may be running now.
    if (on_end) {
      on_end(std::move(status));
    }
  }

  static void onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* st = static_cast<State*>(s->data);
    if (st->closing || !st->reading) {
      return;
    }
    if (nread > 0) {
      st->on_data(std::string_view(buf->base, static_cast<std::size_t>(nread)));
      return;
    }
    if (nread == 0) {
      return;  // EAGAIN: nothing to read after all
    }
    st->end(nread == UV_EOF ? Status::ok()
                            : Status(uvError(static_cast<int>(nread),
                                             fmt::format("Reading from {}", st->peer))));
  }

  static void onConnect(uv_connect_t* req, int status) noexcept {
    auto* st = static_cast<State*>(req->data);
    if (st->closing) {
      return;
    }
    if (status == 0) {
      st->connected = true;
      if (st->reading && !st->paused) {
        st->startRead();
      }
    }
    if (st->closing || !st->on_connected) {
      return;  // startRead() may have ended the stream, and on_end closed it
    }
    st->on_connected(status == 0
                         ? Status::ok()
                         : Status(uvError(status, fmt::format("Cannot connect to {}", st->peer))));
  }
};

Result<std::unique_ptr<StreamConnection>> StreamConnection::connectTcp(
    Loop& loop, const std::string& ip, int port, std::function<void(Status)> on_connected) {
  INGESTD_ASSERT_ON_LOOP();
  sockaddr_storage addr{};
  INGESTD_RETURN_IF_ERROR(parseAddress(ip, port, addr));
  auto* st = new State;
  INGESTD_CHECK(uv_tcp_init(loop.raw(), &st->h.tcp) == 0);
  st->h.tcp.data = st;
  st->connect_req.data = st;
  st->loop = &loop;
  st->peer = formatAddress(reinterpret_cast<const sockaddr*>(&addr));
  st->on_connected = std::move(on_connected);
  std::unique_ptr<StreamConnection> conn(new StreamConnection(st));
  int rc = uv_tcp_connect(&st->connect_req, &st->h.tcp, reinterpret_cast<const sockaddr*>(&addr),
                          &State::onConnect);
  if (rc != 0) {
    failSoon(loop, st->alive, std::move(st->on_connected),
             uvError(rc, fmt::format("Cannot connect to {}", st->peer)));
  }
  return conn;
}

std::unique_ptr<StreamConnection> StreamConnection::connectUnix(
    Loop& loop, const std::string& path, std::function<void(Status)> on_connected) {
  INGESTD_ASSERT_ON_LOOP();
  auto* st = new State;
  INGESTD_CHECK(uv_pipe_init(loop.raw(), &st->h.pipe, 0) == 0);
  st->h.pipe.data = st;
  st->connect_req.data = st;
  st->loop = &loop;
  st->peer = path;
  st->on_connected = std::move(on_connected);
  std::unique_ptr<StreamConnection> conn(new StreamConnection(st));
  // uv_pipe_connect reports every failure through the callback.
  uv_pipe_connect(&st->connect_req, &st->h.pipe, path.c_str(), &State::onConnect);
  return conn;
}

Result<std::unique_ptr<StreamConnection>> StreamConnection::openFd(Loop& loop, int fd,
                                                                   std::string name) {
  INGESTD_ASSERT_ON_LOOP();
  const uv_handle_type type = uv_guess_handle(fd);
  if (type != UV_TTY && type != UV_NAMED_PIPE && type != UV_TCP) {
    return Error{ErrorCode::kInvalidArgument,
                 fmt::format("{} is not a pipe, socket or terminal (the loop cannot poll it)",
                             name)};
  }
  auto* st = new State;
  int rc = 0;
  if (type == UV_TTY) {
    rc = uv_tty_init(loop.raw(), &st->h.tty, fd, 1);
  } else {
    INGESTD_CHECK(uv_pipe_init(loop.raw(), &st->h.pipe, 0) == 0);
    rc = uv_pipe_open(&st->h.pipe, fd);
    if (rc != 0) {
      // The handle exists and must be closed (uv_pipe_open took no descriptor).
      st->h.pipe.data = st;
      uv_close(st->handle(), [](uv_handle_t* h) noexcept { delete static_cast<State*>(h->data); });
      return uvError(rc, fmt::format("Cannot read {}", name));
    }
  }
  if (rc != 0) {
    delete st;  // uv_tty_init failed before registering the handle
    return uvError(rc, fmt::format("Cannot read {}", name));
  }
  st->handle()->data = st;
  st->loop = &loop;
  st->peer = std::move(name);
  st->connected = true;
  return std::unique_ptr<StreamConnection>(new StreamConnection(st));
}

StreamConnection::~StreamConnection() {
  if (!closed_) {
    close(nullptr);
  }
}

void StreamConnection::read(std::function<void(std::string_view)> on_data,
                            std::function<void(Status)> on_end) {
  INGESTD_ASSERT_ON_LOOP();
  INGESTD_CHECK(!closed_ && !state_->on_data);
  state_->on_data = std::move(on_data);
  state_->on_end = std::move(on_end);
  state_->reading = true;
  if (state_->connected && !state_->paused) {
    state_->startRead();
  }
}

void StreamConnection::pauseReading() {
  INGESTD_ASSERT_ON_LOOP();
  if (closed_ || state_->paused) {
    return;
  }
  state_->paused = true;
  if (state_->reading && state_->connected) {
    uv_read_stop(state_->stream());
  }
}

void StreamConnection::resumeReading() {
  INGESTD_ASSERT_ON_LOOP();
  if (closed_ || !state_->paused) {
    return;
  }
  state_->paused = false;
  if (state_->reading && state_->connected) {
    state_->startRead();
  }
}

void StreamConnection::write(std::string data, std::function<void(Status)> done) {
  INGESTD_ASSERT_ON_LOOP();
  INGESTD_CHECK(!closed_ && state_->connected);
  auto* w = new WriteReq;
  w->req.data = state_;
  w->data = std::move(data);
  w->done = std::move(done);
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  // The callback also runs, with UV_ECANCELED, for writes still queued when the handle closes.
  int rc = uv_write(&w->req, state_->stream(), &buf, 1, [](uv_write_t* req, int status) noexcept {
    std::unique_ptr<WriteReq> wr(reinterpret_cast<WriteReq*>(req));
    auto* st = static_cast<State*>(req->data);
    if (!st->closing && wr->done) {
      wr->done(status == 0 ? Status::ok()
                           : Status(uvError(status, fmt::format("Writing to {}", st->peer))));
    }
  });
  if (rc != 0) {
    std::unique_ptr<WriteReq> wr(w);
    failSoon(*state_->loop, state_->alive, std::move(wr->done),
             uvError(rc, fmt::format("Writing to {}", state_->peer)));
  }
}

void StreamConnection::close(std::function<void()> done) {
  INGESTD_ASSERT_ON_LOOP();
  INGESTD_CHECK(!closed_);
  closed_ = true;
  state_->closing = true;
  state_->alive.reset();
  state_->on_closed = std::move(done);
  uv_close(state_->handle(), [](uv_handle_t* h) noexcept {
    std::unique_ptr<State> st(static_cast<State*>(h->data));
    if (st->on_closed) {
      st->on_closed();
    }
  });
}

const std::string& StreamConnection::peer() const { return state_->peer; }

// --- StreamListener -----------------------------------------------------------------------------

struct StreamListener::State {
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } h{};
  bool tcp = true;
  Loop* loop = nullptr;
  int port = 0;
  std::string address;
  OnConnection on_connection;
  std::function<void()> on_closed;
  bool closing = false;

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&h); }
  uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&h); }

  static void closeAndFree(State* st) {
    st->closing = true;
    uv_close(st->handle(), [](uv_handle_t* h) noexcept {
      std::unique_ptr<State> s(static_cast<State*>(h->data));
      if (s->on_closed) {
        s->on_closed();
      }
    });
  }

  static void onConnection(uv_stream_t* server, int status) noexcept {
    auto* st = static_cast<State*>(server->data);
    if (st->closing || !st->on_connection) {
      return;
    }
    if (status < 0) {
      st->on_connection(uvError(status, fmt::format("Cannot accept on {}", st->address)));
      return;
    }
    // Out of memory: the connection stays in the kernel's backlog; the next callback retries.
    auto* cs = new (std::nothrow) StreamConnection::State;
    std::unique_ptr<StreamConnection> conn(new (std::nothrow) StreamConnection(cs));
    if (cs == nullptr || conn == nullptr) {
      if (conn != nullptr) {
        conn->closed_ = true;  // its handle was never initialised
      }
      delete cs;
      return;
    }
    int rc = st->tcp ? uv_tcp_init(server->loop, &cs->h.tcp)
                     : uv_pipe_init(server->loop, &cs->h.pipe, 0);
    INGESTD_CHECK(rc == 0);
    cs->handle()->data = cs;
    cs->connect_req.data = cs;
    cs->loop = st->loop;
    cs->connected = true;
    rc = uv_accept(server, cs->stream());
    if (rc != 0) {
      conn.reset();  // closes the handle
      st->on_connection(uvError(rc, fmt::format("Cannot accept on {}", st->address)));
      return;
    }
    if (st->tcp) {
      sockaddr_storage peer{};
      int len = sizeof peer;
      if (uv_tcp_getpeername(&cs->h.tcp, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
        cs->peer = formatAddress(reinterpret_cast<const sockaddr*>(&peer));
      }
    } else {
      cs->peer = st->address;
    }
    st->on_connection(std::move(conn));
  }
};

Result<std::unique_ptr<StreamListener>> StreamListener::listenTcp(Loop& loop, const std::string& ip,
                                                                  int port,
                                                                  OnConnection on_connection) {
  INGESTD_ASSERT_ON_LOOP();
  sockaddr_storage addr{};
  INGESTD_RETURN_IF_ERROR(parseAddress(ip, port, addr));
  auto* st = new State;
  INGESTD_CHECK(uv_tcp_init(loop.raw(), &st->h.tcp) == 0);
  st->h.tcp.data = st;
  st->loop = &loop;
  st->on_connection = std::move(on_connection);
  const std::string wanted = formatAddress(reinterpret_cast<const sockaddr*>(&addr));
  int rc = uv_tcp_bind(&st->h.tcp, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) {
    rc = uv_listen(st->stream(), kBacklog, &State::onConnection);
  }
  if (rc != 0) {
    State::closeAndFree(st);
    return uvError(rc, fmt::format("Cannot listen on {}", wanted));
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  INGESTD_CHECK(uv_tcp_getsockname(&st->h.tcp, reinterpret_cast<sockaddr*>(&bound), &len) == 0);
  st->port = portOf(bound);
  st->address = formatAddress(reinterpret_cast<const sockaddr*>(&bound));
  return std::unique_ptr<StreamListener>(new StreamListener(st));
}

Result<std::unique_ptr<StreamListener>> StreamListener::listenUnix(Loop& loop,
                                                                   const std::string& path,
                                                                   OnConnection on_connection) {
  INGESTD_ASSERT_ON_LOOP();
  auto* st = new State;
  st->tcp = false;
  INGESTD_CHECK(uv_pipe_init(loop.raw(), &st->h.pipe, 0) == 0);
  st->h.pipe.data = st;
  st->loop = &loop;
  st->address = path;
  st->on_connection = std::move(on_connection);
  int rc = uv_pipe_bind(&st->h.pipe, path.c_str());
  if (rc == 0) {
    rc = uv_listen(st->stream(), kBacklog, &State::onConnection);
  }
  if (rc != 0) {
    State::closeAndFree(st);
    return uvError(rc, fmt::format("Cannot listen on \"{}\"", path));
  }
  return std::unique_ptr<StreamListener>(new StreamListener(st));
}

StreamListener::~StreamListener() {
  if (!closed_) {
    close(nullptr);
  }
}

int StreamListener::port() const { return state_->port; }

const std::string& StreamListener::address() const { return state_->address; }

void StreamListener::close(std::function<void()> done) {
  INGESTD_ASSERT_ON_LOOP();
  INGESTD_CHECK(!closed_);
  closed_ = true;
  state_->on_closed = std::move(done);
  State::closeAndFree(state_);
}

// --- UnixDatagramSocket -------------------------------------------------------------------------

struct UnixDatagramSocket::State {
  uv_poll_t poll{};
  int fd = -1;
  std::string path;
  std::function<void(const UdpSocket::Datagram&)> on_datagram;
  std::function<void()> on_closed;
  bool closing = false;
  bool polling = false;

  static void closeAndFree(State* st) {
    st->closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&st->poll), [](uv_handle_t* h) noexcept {
      std::unique_ptr<State> s(static_cast<State*>(h->data));
      ::close(s->fd);
      ::unlink(s->path.c_str());
      if (s->on_closed) {
        s->on_closed();
      }
    });
  }

  static void onReadable(uv_poll_t* h, int status, int) noexcept {
    auto* st = static_cast<State*>(h->data);
    if (status < 0) {
      return;
    }
    constexpr int kBudget = 256;  // datagrams per wakeup; the rest wait for the next one
    for (int i = 0; i < kBudget && !st->closing && st->polling && st->on_datagram; ++i) {
      sockaddr_un from{};
      socklen_t from_len = sizeof from;
      const ssize_t n = ::recvfrom(st->fd, readBuffer(), kReadBytes, MSG_TRUNC,
                                   reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) {
        return;  // EAGAIN: drained (other errors: nothing to do but wait for the next one)
      }
      UdpSocket::Datagram d;
      d.data = std::string_view(readBuffer(), std::min(static_cast<std::size_t>(n), kReadBytes));
      d.truncated = static_cast<std::size_t>(n) > kReadBytes;
      if (from_len > offsetof(sockaddr_un, sun_path) && from.sun_path[0] != '\0') {
        d.peer = std::string(from.sun_path, ::strnlen(from.sun_path, sizeof from.sun_path));
      }
      st->on_datagram(d);
    }
  }
};

Result<std::unique_ptr<UnixDatagramSocket>> UnixDatagramSocket::bind(Loop& loop,
                                                                     const std::string& path) {
  INGESTD_ASSERT_ON_LOOP();
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Error{ErrorCode::kInvalidArgument,
                 fmt::format("\"{}\" is not a valid Unix socket path", path)};
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return uvError(uv_translate_sys_error(errno), "Cannot create a Unix datagram socket");
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    return uvError(uv_translate_sys_error(err), fmt::format("Cannot bind \"{}\"", path));
  }
  auto* st = new State;
  st->fd = fd;
  st->path = path;
  INGESTD_CHECK(uv_poll_init(loop.raw(), &st->poll, fd) == 0);
  st->poll.data = st;
  return std::unique_ptr<UnixDatagramSocket>(new UnixDatagramSocket(st));
}

UnixDatagramSocket::~UnixDatagramSocket() {
  if (!closed_) {
    close(nullptr);
  }
}

const std::string& UnixDatagramSocket::path() const { return state_->path; }

Status UnixDatagramSocket::startReceiving(
    std::function<void(const UdpSocket::Datagram&)> on_datagram) {
  INGESTD_ASSERT_ON_LOOP();
  INGESTD_CHECK(!closed_);
  state_->on_datagram = std::move(on_datagram);
  state_->polling = true;
  int rc = uv_poll_start(&state_->poll, UV_READABLE, &State::onReadable);
  if (rc != 0) {
    return uvError(rc, fmt::format("Cannot receive on \"{}\"", state_->path));
  }
  return Status::ok();
}

void UnixDatagramSocket::stopReceiving() {
  INGESTD_ASSERT_ON_LOOP();
  if (!closed_) {
    state_->polling = false;
    uv_poll_stop(&state_->poll);
  }
}

void UnixDatagramSocket::close(std::function<void()> done) {
  INGESTD_ASSERT_ON_LOOP();
  INGESTD_CHECK(!closed_);
  closed_ = true;
  state_->on_closed = std::move(done);
  State::closeAndFree(state_);
}

// --- UdpSocket ----------------------------------------------------------------------------------

struct UdpSocket::State {
  uv_udp_t handle{};
  Loop* loop = nullptr;
  std::shared_ptr<int> alive = std::make_shared<int>(0);  // reset by close()
  int port = 0;
  std::string address;
  std::function<void(const Datagram&)> on_datagram;
  std::function<void()> on_closed;
  bool closing = false;

  static void closeAndFree(State* st) {
    st->closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&st->handle), [](uv_handle_t* h) noexcept {
      std::unique_ptr<State> s(static_cast<State*>(h->data));
      if (s->on_closed) {
        s->on_closed();
      }
    });
  }
};

Result<std::unique_ptr<UdpSocket>> UdpSocket::bind(Loop& loop, const std::string& ip, int port) {
  INGESTD_ASSERT_ON_LOOP();
  sockaddr_storage addr{};
  INGESTD_RETURN_IF_ERROR(parseAddress(ip, port, addr));
  auto* st = new State;
  INGESTD_CHECK(uv_udp_init(loop.raw(), &st->handle) == 0);
  st->handle.data = st;
  st->loop = &loop;
  const std::string wanted = formatAddress(reinterpret_cast<const sockaddr*>(&addr));
  int rc = uv_udp_bind(&st->handle, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc != 0) {
    State::closeAndFree(st);
    return uvError(rc, fmt::format("Cannot bind {}", wanted));
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  INGESTD_CHECK(uv_udp_getsockname(&st->handle, reinterpret_cast<sockaddr*>(&bound), &len) == 0);
  st->port = portOf(bound);
  st->address = formatAddress(reinterpret_cast<const sockaddr*>(&bound));
  return std::unique_ptr<UdpSocket>(new UdpSocket(st));
}

UdpSocket::~UdpSocket() {
  if (!closed_) {
    close(nullptr);
  }
}

int UdpSocket::port() const { return state_->port; }

const std::string& UdpSocket::address() const { return state_->address; }

std::uint64_t UdpSocket::inode() const {
  uv_os_fd_t fd{};
  struct stat st {};
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&state_->handle), &fd) != 0 ||
      ::fstat(fd, &st) != 0) {
    return 0;
  }
  return static_cast<std::uint64_t>(st.st_ino);
}

Result<std::size_t> UdpSocket::setReceiveBuffer(std::size_t bytes) {
  INGESTD_ASSERT_ON_LOOP();
  int value = static_cast<int>(std::min<std::size_t>(bytes, 1u << 30));
  int rc = uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(&state_->handle), &value);
  if (rc != 0) {
    return uvError(rc, fmt::format("Cannot set the receive buffer of {}", state_->address));
  }
  value = 0;  // 0: read it back
  rc = uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(&state_->handle), &value);
  if (rc != 0) {
    return uvError(rc, fmt::format("Cannot read the receive buffer of {}", state_->address));
  }
  return static_cast<std::size_t>(value);
}

Status UdpSocket::startReceiving(std::function<void(const Datagram&)> on_datagram) {
  INGESTD_ASSERT_ON_LOOP();
  INGESTD_CHECK(!closed_);
  state_->on_datagram = std::move(on_datagram);
  int rc =
      uv_udp_recv_start(&state_->handle, &allocRead,
                        [](uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* from,
                           unsigned flags) noexcept {
                          auto* st = static_cast<State*>(h->data);
                          // nread 0 with no address: nothing more to read now; nread < 0: a receive
                          // error.
                          if (st->closing || !st->on_datagram || nread < 0 || from == nullptr) {
                            return;
                          }
                          Datagram d;
                          d.data = std::string_view(buf->base, static_cast<std::size_t>(nread));
                          d.peer = formatAddress(from);
                          d.truncated = (flags & UV_UDP_PARTIAL) != 0;
                          st->on_datagram(d);
                        });
  if (rc != 0) {
    return uvError(rc, fmt::format("Cannot receive on {}", state_->address));
  }
  return Status::ok();
}

void UdpSocket::stopReceiving() {
  INGESTD_ASSERT_ON_LOOP();
  if (!closed_) {
    uv_udp_recv_stop(&state_->handle);
  }
}

void UdpSocket::send(std::string data, const std::string& ip, int port,
                     std::function<void(Status)> done) {
  INGESTD_ASSERT_ON_LOOP();
  INGESTD_CHECK(!closed_);
  State* st = state_;
  sockaddr_storage addr{};
  if (auto parsed = parseAddress(ip, port, addr); !parsed) {
    failSoon(*st->loop, st->alive, std::move(done), parsed.error());
    return;
  }
  auto* r = new UdpSendReq;
  r->req.data = st;
  r->data = std::move(data);
  r->done = std::move(done);
  uv_buf_t buf = uv_buf_init(r->data.data(), static_cast<unsigned>(r->data.size()));
  int rc = uv_udp_send(&r->req, &st->handle, &buf, 1, reinterpret_cast<const sockaddr*>(&addr),
                       [](uv_udp_send_t* req, int status) noexcept {
                         std::unique_ptr<UdpSendReq> sr(reinterpret_cast<UdpSendReq*>(req));
                         auto* s = static_cast<State*>(req->data);
                         if (!s->closing && sr->done) {
                           sr->done(status == 0 ? Status::ok()
                                                : Status(uvError(status, "Sending a datagram")));
                         }
                       });
  if (rc != 0) {
    std::unique_ptr<UdpSendReq> sr(r);
    failSoon(*st->loop, st->alive, std::move(sr->done),
             uvError(rc, fmt::format("Sending a datagram to {}",
                                     formatAddress(reinterpret_cast<const sockaddr*>(&addr)))));
  }
}

void UdpSocket::close(std::function<void()> done) {
  INGESTD_ASSERT_ON_LOOP();
  INGESTD_CHECK(!closed_);
  closed_ = true;
  state_->alive.reset();
  state_->on_closed = std::move(done);
  uv_udp_recv_stop(&state_->handle);
  State::closeAndFree(state_);
}

}  // namespace ingestd
