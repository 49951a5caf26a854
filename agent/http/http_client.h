// HttpClient: asynchronous HTTP/1.1 requests on the loop thread, through one libcurl multi handle
// driven by libuv (a uv_poll_t per socket, one uv_timer_t). Keep-alive connections are reused
// across requests; bodies are sent from memory without copies.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/core/log.h"
#include "agent/loop/loop.h"

namespace ingestd {

struct HttpRequest {
  std::string method = "POST";  // GET, POST, PUT, ...
  std::string url;
  // Sent as given (CR and LF in values are replaced by spaces). "Expect:" is always sent empty
  // on requests with a body (no 100-continue round trip); a "Name:" with an empty value removes
  // a header curl would add by itself.
  std::vector<std::pair<std::string, std::string>> headers;
  // Request body; kept alive (not copied) until done() runs or the request is cancelled.
  std::shared_ptr<const std::string> body;
  // Non-empty: sent as Accept-Encoding, and a compressed response is decoded.
  std::string accept_encoding;
  std::chrono::milliseconds timeout{600000};  // whole request, including queueing
  std::chrono::milliseconds connect_timeout{10000};
};

struct HttpResponse {
  // The HTTP status of a complete response; 0 when none arrived (see curl_code and error).
  long status = 0;
  std::string body;                            // at most HttpClientOptions::max_response_bytes
  std::map<std::string, std::string> headers;  // of the final response; lower-case names
  int curl_code = 0;                           // CURLcode; 0 = the exchange completed
  std::string error;                           // transport error text when curl_code != 0
  std::chrono::microseconds duration{};        // from start() to completion
  bool reused_connection = false;              // no new connection was opened for this request
};

struct HttpClientOptions {
  std::string ca_file;  // empty: the system CA store
  bool verify_tls = true;
  std::size_t max_connections_per_host = 8;  // more requests wait inside curl; 0 = no limit
  std::size_t max_cached_connections = 32;   // idle keep-alive connections kept open
  std::string proxy;                         // empty: curl's default (environment variables)
  std::string user_agent;                    // empty: no User-Agent header
  std::size_t max_response_bytes = 1 << 20;  // longer bodies are truncated (error bodies are small)
};

// Splits one raw header line ("Name: value\r\n") into a lower-case name and a trimmed value.
// Returns false for status lines, the blank line and malformed lines. Pure; used by the client.
bool parseHttpHeaderLine(std::string_view line, std::string& name, std::string& value);

class HttpClient {
 public:
  using RequestId = std::uint64_t;

  // Loop thread. Logs a warning when libcurl cannot resolve names asynchronously (a DNS lookup
  // would then block the loop).
  HttpClient(Loop& loop, Logger& log, HttpClientOptions options);
  // Call close() first and wait for its callback; a client destroyed while open closes its
  // handles anyway (their memory is freed by the close callbacks, not here).
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Loop thread; never blocks. done runs exactly once on the loop thread, never inside start(),
  // unless the request is cancelled or the client closed first. A request that cannot be set up
  // completes with curl_code set and status 0. Returns an id for cancel().
  RequestId start(HttpRequest request, std::function<void(HttpResponse)> done);

  // Loop thread. Aborts a request; its done() will not run. Unknown ids are ignored.
  void cancel(RequestId id);

  // Loop thread. Cancels every request (no done() for them), closes connections and handles;
  // done runs after the last uv_close callback. start() after close() fails every request.
  void close(std::function<void()> done);

  std::size_t inFlight() const { return transfers_.size(); }
  // Connections opened so far (a keep-alive connection reused for many requests counts once).
  std::uint64_t connectionsOpenedForTest() const { return connections_opened_; }

 private:
  struct Transfer;
  struct Handles;
  friend struct HttpClientCallbacks;  // the libcurl and libuv callbacks (http_client.cpp)

  void socketAction(int fd, int flags) noexcept;
  void completeFinished() noexcept;
  void failSoon(RequestId id, int curl_code, std::string error);
  void detach(Transfer& t);

  Loop& loop_;
  Logger& log_;
  HttpClientOptions options_;
  void* multi_ = nullptr;  // CURLM*
  Handles* handles_;       // timer + socket polls; outlives this object until the last close
  std::unordered_map<RequestId, std::unique_ptr<Transfer>> transfers_;
  RequestId next_id_ = 1;
  std::uint64_t connections_opened_ = 0;
  bool closed_ = false;
  // Deferred completions (failSoon) hold a weak_ptr to this, so they do nothing once the
  // client is gone.
  std::shared_ptr<HttpClient*> self_;
};

}  // namespace ingestd
