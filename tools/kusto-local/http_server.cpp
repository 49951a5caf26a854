// kusto-local's thread-per-connection HTTP/1.1 server (see http_server.h).
#include "http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

namespace kusto_local {
namespace {

constexpr std::size_t kReadBuffer = std::size_t{256} * 1024;
constexpr std::size_t kMaxConnections = 4096;
constexpr int kIdleTimeoutSeconds = 300;
// After an error response the request body may still be arriving; reading (and dropping) it
// for a while before close() keeps the kernel from resetting the connection, which would
// destroy the response before the client reads it.
constexpr std::size_t kLingerMaxBytes = std::size_t{32} * 1024 * 1024;
constexpr auto kLingerMaxTime = std::chrono::seconds(2);

const char* reasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
  }
}

// Sends every byte of the given pieces; false when the peer is gone.
bool sendAll(int fd, iovec* iov, int count) {
  while (count > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    auto left = static_cast<std::size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

bool sendText(int fd, std::string_view text) {
  iovec iov{const_cast<char*>(text.data()), text.size()};
  return sendAll(fd, &iov, 1);
}

bool sendResponse(int fd, const HttpResponse& r, bool head_only, bool close, bool http10_keep_alive,
                  std::string& head) {
  head.clear();
  fmt::format_to(std::back_inserter(head), "HTTP/1.1 {} {}\r\n", r.status, reasonPhrase(r.status));
  for (const auto& [name, value] : r.headers) {
    head.append(name).append(": ").append(value).append("\r\n");
  }
  fmt::format_to(std::back_inserter(head), "Content-Length: {}\r\n", r.body.size());
  if (close) {
    head.append("Connection: close\r\n");
  } else if (http10_keep_alive) {
    head.append("Connection: keep-alive\r\n");
  }
  head.append("\r\n");
  iovec iov[2] = {{head.data(), head.size()}, {const_cast<char*>(r.body.data()), r.body.size()}};
  return sendAll(fd, iov, (head_only || r.body.empty()) ? 1 : 2);
}

void lingeringDrain(int fd, const std::atomic<bool>& stopping) {
  ::shutdown(fd, SHUT_WR);
  auto deadline = std::chrono::steady_clock::now() + kLingerMaxTime;
  std::size_t drained = 0;
  char buf[16 * 1024];
  while (drained < kLingerMaxBytes && !stopping.load()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r <= 0) {
      if (r < 0 && errno == EINTR) {
        continue;
      }
      break;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    drained += static_cast<std::size_t>(n);
  }
}

}  // namespace

HttpServer::HttpServer(HttpHandler& handler, HttpLimits limits)
    : handler_(handler), limits_(limits) {}

HttpServer::~HttpServer() {
  stop();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
  }
  for (int fd : wake_pipe_) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
}

std::string HttpServer::listen(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    return fmt::format("cannot resolve \"{}\": {}", host, ::gai_strerror(rc));
  }
  std::string error = fmt::format("cannot listen on \"{}\"", host);
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 512) != 0) {
      error = fmt::format("cannot listen on {}:{}: {}", host, port, std::strerror(errno));
      ::close(fd);
      continue;
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    if (addr.ss_family == AF_INET6) {
      port_ = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    } else {
      port_ = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    }
    listen_fd_ = fd;
    break;
  }
  ::freeaddrinfo(res);
  if (listen_fd_ < 0) {
    return error;
  }
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    return fmt::format("cannot create a pipe: {}", std::strerror(errno));
  }
  return "";
}

void HttpServer::start() {
  accept_thread_ = std::thread([this] { acceptLoop(); });
}

void HttpServer::acceptLoop() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int r = ::poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if (fds[1].revents != 0 || stopping_.load()) {
      break;
    }
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;  // EAGAIN, ECONNABORTED, EMFILE...: try again on the next wakeup
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval idle{kIdleTimeoutSeconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
    reapFinished();
    std::lock_guard<std::mutex> lock(mu_);
    if (connections_.size() >= kMaxConnections) {
      ::close(fd);
      continue;
    }
    Connection& conn = connections_.emplace_back();
    conn.fd = fd;
    try {
      conn.thread = std::thread([this, &conn] { serve(conn); });
    } catch (const std::system_error&) {
      ::close(fd);
      connections_.pop_back();
    }
  }
}

void HttpServer::reapFinished() {
  std::list<Connection> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if (it->done) {
        finished.splice(finished.end(), connections_, it);
      }
      it = next;
    }
  }
  for (Connection& c : finished) {
    if (c.thread.joinable()) {
      c.thread.join();
    }
  }
}

void HttpServer::closeConnection(Connection& conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (conn.fd >= 0) {
    ::close(conn.fd);
    conn.fd = -1;
  }
  conn.done = true;
}

void HttpServer::serve(Connection& conn) {
  int fd = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fd = conn.fd;
  }
  HttpRequestParser parser(limits_);
  std::unique_ptr<char[]> buf(new char[kReadBuffer]);
  std::size_t pos = 0;
  std::size_t len = 0;
  bool sent_continue = false;
  std::string head;
  while (!stopping_.load()) {
    if (pos == len) {
      ssize_t n = ::recv(fd, buf.get(), kReadBuffer, 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        break;  // peer closed, idle timeout, or stop() shut the socket down
      }
      pos = 0;
      len = static_cast<std::size_t>(n);
    }
    pos += parser.feed(std::string_view(buf.get() + pos, len - pos));
    if (parser.needsContinue() && !sent_continue) {
      HttpResponse early;
      if (!handler_.beforeContinue(parser.request(), early)) {
        sendResponse(fd, early, false, /*close=*/true, false, head);
        break;
      }
      if (!sendText(fd, "HTTP/1.1 100 Continue\r\n\r\n")) {
        break;
      }
      sent_continue = true;
    }
    if (parser.failed()) {
      HttpResponse response;
      handler_.handleParseError(parser.errorStatus(), parser.errorMessage(), parser.request(),
                                response);
      if (!response.drop && sendResponse(fd, response, false, true, false, head)) {
        lingeringDrain(fd, stopping_);
      }
      break;
    }
    if (!parser.complete()) {
      continue;
    }
    HttpRequest& request = parser.request();
    HttpResponse response;
    try {
      handler_.handle(request, response);
    } catch (const std::exception&) {
      response = HttpResponse{};
      response.status = 500;
      response.close = true;
    }
    if (response.drop) {
      break;
    }
    bool close = response.close || !request.keep_alive || stopping_.load();
    bool http10_keep_alive = !close && request.version_minor == 0;
    if (!sendResponse(fd, response, request.method == "HEAD", close, http10_keep_alive, head)) {
      break;
    }
    if (close) {
      break;
    }
    parser.reset();
    sent_continue = false;
  }
  closeConnection(conn);
}

void HttpServer::stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  stopping_.store(true);
  if (wake_pipe_[1] >= 0) {
    char c = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_pipe_[1], &c, 1);
  }
  if (accept_thread_.joinable()) {
    accept_thread_.join();
  }
  std::list<Connection> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Connection& c : connections_) {
      if (c.fd >= 0) {
        ::shutdown(c.fd, SHUT_RDWR);
      }
    }
    all.splice(all.end(), connections_);
  }
  for (Connection& c : all) {
    if (c.thread.joinable()) {
      c.thread.join();
    }
  }
}

std::size_t HttpServer::openConnectionsForTest() {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t n = 0;
  for (const Connection& c : connections_) {
    n += c.done ? 0 : 1;
  }
  return n;
}

}  // namespace kusto_local
