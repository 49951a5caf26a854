// Blocking HTTP client for tests (libcurl easy), plus gzip helpers. HttpClient keeps one easy
// handle so consecutive requests reuse the keep-alive connection; httpRequest() is a one-shot.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ingestd::test {

struct HttpResponse {
  long status = 0;  // 0 when no response was received (see error)
  std::string body;
  std::map<std::string, std::string> headers;  // of the final response; lower-case names
  std::string error;                           // curl error text if no (complete) response
  bool got_continue = false;                   // a "100 Continue" interim response came first

  // The value of a header (name in lower case), or "" when absent.
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// How long a test request waits by default. Sanitized builds (kusto-local under TSan answers a
// large query 10-20x slower) wait longer, so a slow answer is not reported as a lost row.
#ifdef INGESTD_SANITIZED
inline constexpr std::chrono::seconds kDefaultRequestTimeout{150};
#else
inline constexpr std::chrono::seconds kDefaultRequestTimeout{30};
#endif

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // method: GET, POST, ... . headers: "Name: value" lines. A non-empty body is sent with
  // Content-Length, or with Transfer-Encoding: chunked when `chunked`. An "Expect:" header in
  // `headers` is honoured (curl waits up to `timeout` for the 100 Continue).
  HttpResponse request(std::string_view method, const std::string& url, std::string_view body = {},
                       const std::vector<std::string>& headers = {},
                       std::chrono::milliseconds timeout = kDefaultRequestTimeout,
                       bool chunked = false);

  // Connections this client has opened so far (1 after many requests on one keep-alive).
  long connectionsOpened() const { return connects_; }

 private:
  void* curl_ = nullptr;
  long connects_ = 0;
};

HttpResponse httpRequest(std::string_view method, const std::string& url,
                         std::string_view body = {}, const std::vector<std::string>& headers = {},
                         std::chrono::milliseconds timeout = kDefaultRequestTimeout,
                         bool chunked = false);

// Percent-encodes a URL component.
std::string urlEncode(std::string_view text);

// A gzip member (RFC 1952) of data. Throws std::runtime_error on zlib failure.
std::string gzipCompress(std::string_view data, int level = 6);
// Decompresses one or more concatenated gzip members. Throws std::runtime_error on bad input.
std::string gunzip(std::string_view data);

}  // namespace ingestd::test
