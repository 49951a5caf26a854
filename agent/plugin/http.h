// HttpClient: asynchronous HTTP/1.1 requests on the loop thread, as plugins use them. Plugins get
// a client from PluginContext::httpClient(); the implementation (one libcurl multi handle driven
// by libuv, keep-alive connections reused across requests, bodies sent from memory without
// copies) is the core's, in agent/http/http_client.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

class HttpClient {
 public:
  using RequestId = std::uint64_t;

  // Call close() first and wait for its callback; a client destroyed while open closes its
  // handles anyway (their memory is freed by the close callbacks, not by the destructor).
  virtual ~HttpClient() = default;

  // Loop thread; never blocks. done runs exactly once on the loop thread, never inside start(),
  // unless the request is cancelled or the client closed first. A request that cannot be set up
  // completes with curl_code set and status 0. Returns an id for cancel().
  virtual RequestId start(HttpRequest request, std::function<void(HttpResponse)> done) = 0;

  // Loop thread. Aborts a request; its done() will not run. Unknown ids are ignored.
  virtual void cancel(RequestId id) = 0;

  // Loop thread. Cancels every request (no done() for them), closes connections and handles;
  // done runs after the last handle closed. start() after close() fails every request.
  virtual void close(std::function<void()> done) = 0;

  // Requests started and not yet completed or cancelled.
  virtual std::size_t inFlight() const = 0;
};

}  // namespace ingestd
