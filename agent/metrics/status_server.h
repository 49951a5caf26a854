// StatusServer: a tiny HTTP/1.1 server on the loop for GET /metrics (Prometheus text format),
// /healthz (the process runs) and /readyz (outputs are ready). One request per connection is
// enough for scrapers; keep-alive is honoured for simple clients.
#pragma once

#include <functional>
#include <string>

#include "agent/core/status.h"
#include "agent/loop/loop.h"
#include "agent/metrics/metrics.h"

namespace ingestd {

class StatusServer {
 public:
  StatusServer(Loop& loop, Metrics& metrics, std::function<bool()> ready);
  ~StatusServer();

  // "host:port" (port 0: the OS picks; see port()).
  Status listen(const std::string& address);
  int port() const { return port_; }
  void close(std::function<void()> done);

 private:
  struct Conn;
  static void onConnection(uv_stream_t* server, int status);
  void handle(Conn& conn);

  Loop& loop_;
  Metrics& metrics_;
  std::function<bool()> ready_;
  uv_tcp_t* server_ = nullptr;
  int port_ = 0;
};

// Splits "host:port" / "[v6]:port". Returns false on a malformed address.
bool splitHostPort(const std::string& address, std::string& host, int& port);

}  // namespace ingestd
