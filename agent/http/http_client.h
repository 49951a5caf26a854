// CurlHttpClient: the HttpClient of the plugin API (agent/plugin/http.h, where requests,
// responses, options and the contract of each call are described): asynchronous HTTP/1.1
// requests on the loop thread, through one libcurl multi handle driven by libuv (a uv_poll_t per
// socket, one uv_timer_t). Keep-alive connections are reused across requests; bodies are sent
// from memory without copies. Plugins get one from PluginContext::httpClient().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "agent/core/log.h"
#include "agent/loop/loop.h"
#include "agent/plugin/http.h"

namespace ingestd {

// Splits one raw header line ("Name: value\r\n") into a lower-case name and a trimmed value.
// Returns false for status lines, the blank line and malformed lines. Pure; used by the client.
bool parseHttpHeaderLine(std::string_view line, std::string& name, std::string& value);

class CurlHttpClient final : public HttpClient {
 public:
  // Loop thread. Logs a warning when libcurl cannot resolve names asynchronously (a DNS lookup
  // would then block the loop).
  CurlHttpClient(Loop& loop, Logger& log, HttpClientOptions options);
  // Call close() first and wait for its callback; a client destroyed while open closes its
  // handles anyway (their memory is freed by the close callbacks, not here).
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  // HttpClient
  RequestId start(HttpRequest request, std::function<void(HttpResponse)> done) override;
  void cancel(RequestId id) override;
  void close(std::function<void()> done) override;
  std::size_t inFlight() const override { return transfers_.size(); }

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
  std::shared_ptr<CurlHttpClient*> self_;
};

}  // namespace ingestd
