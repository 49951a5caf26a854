// StatusServer: a small HTTP/1.1 server on the loop for GET and HEAD of /metrics (Prometheus text
// format), /healthz (the process runs) and /readyz (the pipeline can deliver). Connections are
// capped, must send their request head within a deadline, may stay open (keep-alive) for a while,
// and are all closed by close(), so neither idle clients nor a flood of them can keep the
// process alive or starve it of file descriptors.
#pragma once

#include <prometheus/counter.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <unordered_set>

#include "agent/core/status.h"
#include "agent/loop/loop.h"
#include "agent/metrics/metrics.h"
#include "agent/metrics/status_http.h"

namespace ingestd {

// What /readyz answers: 200 "ready\n", or 503 with `reason` (one line) as the body.
struct Readiness {
  bool ready = false;
  std::string reason;  // why not ready; ignored when ready
};

struct StatusServerOptions {
  // Connections served at once; more are accepted and closed at once, counted in
  // ingestd_status_connections_rejected_total.
  std::size_t max_connections = 64;
  // From accept (or from the first byte of a keep-alive request) to the end of the head.
  std::chrono::milliseconds header_timeout{10'000};
  // Keep-alive wait for the next request; also the most a response may take to be written.
  std::chrono::milliseconds idle_timeout{30'000};
  // A longer request head is answered 431 and the connection closed.
  std::size_t max_head_bytes = std::size_t{16} * 1024;
};

class StatusServer {
 public:
  // `ready` runs on the loop thread for every /readyz request and must not block.
  StatusServer(Loop& loop, Metrics& metrics, std::function<Readiness()> ready);
  StatusServer(Loop& loop, Metrics& metrics, StatusServerOptions options,
               std::function<Readiness()> ready);
  // Every handle must be closed by then (close() and its done()).
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Loop thread. "host:port" (port 0: the OS picks; see port()). Once per server.
  Status listen(const std::string& address);
  int port() const { return port_; }

  // Loop thread. Closes the listener and every connection (a response still being written is
  // cut off). done() runs once, on the loop thread, after the last close callback; at once when
  // nothing is open. A second call adds its done(), which runs after the first one's.
  void close(std::function<void()> done);

  // Connections being served (not counting rejected ones being closed).
  std::size_t connectionsForTest() const { return served_; }

 private:
  struct Conn;
  // libuv callbacks
  static void onConnection(uv_stream_t* listener, int status) noexcept;
  static void onAlloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void onWritten(uv_write_t* req, int status) noexcept;
  static void onTimeout(uv_timer_t* timer) noexcept;
  static void onConnHandleClosed(uv_handle_t* handle) noexcept;

  void accept();
  void process(Conn& c);
  void answer(Conn& c, std::string_view head_bytes);
  // The body of GET /metrics, /healthz or /readyz; sets spec's code and content type.
  std::string resource(const std::string& path, status_http::ResponseSpec& spec);
  void respond(Conn& c, std::string response, bool keep_alive);
  void afterWrite(Conn& c);
  void startReading(Conn& c);
  void stopReading(Conn& c);
  void armTimer(Conn& c, std::chrono::milliseconds timeout);
  void closeConn(Conn& c);
  void forget(Conn* c);
  void maybeDone();

  Loop& loop_;
  Metrics& metrics_;
  StatusServerOptions options_;
  std::function<Readiness()> ready_;
  prometheus::Counter* rejected_;
  uv_tcp_t* listener_ = nullptr;
  int port_ = 0;
  std::unordered_set<Conn*> conns_;  // every connection whose handles are not closed yet
  std::size_t served_ = 0;           // of conns_, those not rejected
  bool closing_ = false;
  std::function<void()> done_;
  // One read buffer for every connection: libuv calls onRead right after onAlloc.
  std::array<char, std::size_t{64} * 1024> read_buf_{};
};

// Splits "host:port" / "[v6]:port". Returns false on a malformed address.
bool splitHostPort(const std::string& address, std::string& host, int& port);

}  // namespace ingestd
