// kusto-local's HTTP/1.1 server: a listening socket, one thread per connection with blocking
// sockets (simple, and plenty for a test endpoint), keep-alive, pipelining, 100-continue and a
// clean stop from another thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http_parser.h"

namespace kusto_local {

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added
  std::string body;
  bool close = false;  // close the connection after sending this response
  bool drop = false;   // close the connection without sending anything (fault injection)

  void setHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// What the server calls for each request. Called concurrently from connection threads; may
// block (latency faults do). Must not throw.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual void handle(HttpRequest& request, HttpResponse& response) = 0;
  // The request could not be parsed (status is 400, 413, 431, 501 or 505). partial holds
  // whatever was parsed (headers when the head was complete). The connection closes after.
  virtual void handleParseError(int status, const std::string& message, const HttpRequest& partial,
                                HttpResponse& response) = 0;
  // The client sent "Expect: 100-continue" and waits before sending its body. Return false and
  // fill `response` to answer at once (e.g. 401) instead of inviting the upload; the connection
  // then closes, since the body was never read.
  virtual bool beforeContinue(const HttpRequest& head, HttpResponse& response) {
    (void)head;
    (void)response;
    return true;
  }
};

class HttpServer {
 public:
  explicit HttpServer(HttpHandler& handler, HttpLimits limits = {});
  ~HttpServer();  // stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0: the OS picks) and listens. Returns an error text or "".
  std::string listen(const std::string& host, std::uint16_t port);
  std::uint16_t port() const { return port_; }

  // Starts the accept thread. Call after listen().
  void start();
  // Stops accepting, shuts down every connection (in-flight handlers finish, their responses
  // are lost) and joins all threads. Idempotent; callable from any thread but a handler.
  void stop();

  std::size_t openConnectionsForTest();

 private:
  struct Connection {
    int fd = -1;  // -1 once the connection thread closed it; guarded by mu_
    bool done = false;
    std::thread thread;
  };

  void acceptLoop();
  void serve(Connection& conn);
  void closeConnection(Connection& conn);
  void reapFinished();

  HttpHandler& handler_;
  HttpLimits limits_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};  // written by stop() to wake the accept loop
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;  // guards connections_ (the list and each fd/done)
  std::list<Connection> connections_;
  std::mutex stop_mu_;  // serialises stop()
};

}  // namespace kusto_local
