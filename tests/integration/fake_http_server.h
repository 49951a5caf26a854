// FakeHttpServer: a scripted HTTP/1.1 server on 127.0.0.1 (port chosen by the OS) for the HTTP
// client and kusto output integration tests. One thread accepts, one thread per connection
// serves keep-alive requests through a handler; it can answer, delay, or drop the connection.
// Header-only; blocking sockets on its own threads, never on the loop under test.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <uv.h>

#include "agent/loop/loop.h"
#include "tests/support/loop_wait.h"

namespace ingestd::fakehttp {

struct Request {
  std::string method;
  std::string target;                          // "/v1/rest/ingest/db/t?streamFormat=..."
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int connection = 0;  // 1-based number of the accepting connection
};

struct Reply {
  enum class Action { kRespond, kDropConnection };
  Action action = Action::kRespond;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  // wait this long before answering (or dropping)
  bool close = false;                  // close the connection after answering
};

class FakeHttpServer {
 public:
  using Handler = std::function<Reply(const Request&)>;

  explicit FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) {
      throw std::runtime_error("socket failed");
    }
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 128) != 0) {
      throw std::runtime_error("bind/listen failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }

  ~FakeHttpServer() { stop(); }

  void stop() {
    if (stopping_.exchange(true)) {
      return;
    }
    cv_.notify_all();
    if (acceptor_.joinable()) {
      acceptor_.join();
    }
    ::close(listen_fd_);
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (auto& t : workers) {
      t.join();
    }
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connectionsAccepted() const { return accepted_.load(); }
  std::size_t requestCount() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int maxConcurrent() const { return max_concurrent_.load(); }

 private:
  void acceptLoop() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      int number = ++accepted_;
      std::lock_guard lock(mu_);
      workers_.emplace_back([this, fd, number] { serve(fd, number); });
    }
  }

  // Waits up to `d`, or less if the server stops. False when stopping.
  bool pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stopping_.load(); });
  }

  // Reads more bytes into buf; false on EOF, error or stop.
  bool readMore(int fd, std::string& buf) {
    while (!stopping_) {
      pollfd p{fd, POLLIN, 0};
      int rc = ::poll(&p, 1, 20);
      if (rc == 0) {
        continue;
      }
      if (rc < 0) {
        return false;
      }
      char tmp[65536];
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) {
        return false;
      }
      buf.append(tmp, static_cast<std::size_t>(n));
      return true;
    }
    return false;
  }

  static void sendAll(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      off += static_cast<std::size_t>(n);
    }
  }

  // Parses the request line and the headers (names lower-cased) of `head` into req.
  static void parseHead(const std::string& head, Request& req) {
    std::size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.rfind(' ');
    req.method = request_line.substr(0, sp1);
    req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) {
        e = head.size();
      }
      std::string line = head.substr(pos, e - pos);
      pos = e + 2;
      auto colon = line.find(':');
      if (colon == std::string::npos) {
        continue;
      }
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      req.headers[name] = value;
    }
  }

  // Reads one request (head, then a Content-Length body) from fd into req; bytes past it stay
  // in buf for the next one. False on EOF, error or stop.
  bool readRequest(int fd, std::string& buf, Request& req) {
    std::size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!readMore(fd, buf)) {
        return false;
      }
    }
    parseHead(buf.substr(0, head_end), req);
    buf.erase(0, head_end + 4);
    std::size_t length = 0;
    if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
      length = std::stoul(it->second);
    }
    while (buf.size() < length) {
      if (!readMore(fd, buf)) {
        return false;
      }
    }
    req.body = buf.substr(0, length);
    buf.erase(0, length);
    return true;
  }

  // Counts one more request in the handler and keeps the highest count seen.
  void enterHandler() {
    int now = ++concurrent_;
    int prev = max_concurrent_.load();
    while (now > prev && !max_concurrent_.compare_exchange_weak(prev, now)) {
    }
  }

  static std::string formatReply(const Reply& reply) {
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " Status\r\n";
    for (const auto& [k, v] : reply.headers) {
      out.append(k).append(": ").append(v).append("\r\n");
    }
    out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
    if (reply.close) {
      out += "Connection: close\r\n";
    }
    out += "\r\n";
    out += reply.body;
    return out;
  }

  // Serves the keep-alive requests of one connection until the peer closes, a reply drops or
  // closes it, or the server stops.
  void serve(int fd, int number) {
    std::string buf;
    while (!stopping_) {
      Request req;
      req.connection = number;
      if (!readRequest(fd, buf, req)) {
        ::close(fd);
        return;
      }
      enterHandler();
      Reply reply = handler_(req);
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
      }
      if (reply.delay.count() > 0 && !pause(reply.delay)) {
        --concurrent_;
        ::close(fd);
        return;
      }
      --concurrent_;
      if (reply.action == Reply::Action::kDropConnection) {
        ::close(fd);
        return;
      }
      sendAll(fd, formatReply(reply));
      if (reply.close) {
        ::close(fd);
        return;
      }
    }
    ::close(fd);
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> concurrent_{0};
  std::atomic<int> max_concurrent_{0};
  std::thread acceptor_;
  mutable std::mutex mu_;  // guards requests_, workers_; cv_ waits on it
  std::condition_variable cv_;
  std::vector<std::thread> workers_;
  std::vector<Request> requests_;
};

// Runs the loop until cond() holds or `timeout` passes (see tests/support/loop_wait.h).
inline bool runUntil(Loop& loop, const std::function<bool()>& cond,
                     std::chrono::milliseconds timeout) {
  return ::ingestd::test::runLoopUntil(loop, cond, timeout);
}

}  // namespace ingestd::fakehttp
