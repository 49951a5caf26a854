// HttpClient / gzip implementation on libcurl easy handles and zlib.
#include "tests/support/http_client.h"

#include <curl/curl.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace ingestd::test {
namespace {

void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  HttpResponse* response;
  std::string_view body;
  std::size_t sent = 0;
};

std::size_t onWrite(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->response->body.append(data, size * n);
  return size * n;
}

std::size_t onHeader(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  if (line.substr(0, 5) == "HTTP/") {
    // A new (interim or final) response starts: keep only the final response's headers.
    if (line.find(" 100") != std::string_view::npos) {
      t->response->got_continue = true;
    }
    t->response->headers.clear();
    return size * n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    return size * n;
  }
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  t->response->headers[name] = std::string(value);
  return size * n;
}

std::size_t onRead(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  // Small pieces, so a chunked body really arrives as several chunks.
  const std::size_t max = std::min(size * n, std::size_t{16} * 1024);
  const std::size_t len = std::min(max, t->body.size() - t->sent);
  std::memcpy(buffer, t->body.data() + t->sent, len);
  t->sent += len;
  return len;
}

}  // namespace

HttpClient::HttpClient() {
  globalInit();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) {
    throw std::runtime_error("curl_easy_init failed");
  }
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResponse HttpClient::request(std::string_view method, const std::string& url,
                                 std::string_view body, const std::vector<std::string>& headers,
                                 std::chrono::milliseconds timeout, bool chunked) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  HttpResponse response;
  Transfer transfer{&response, body};
  const std::string method_str(method);

  curl_slist* list = nullptr;
  bool has_expect = false;
  for (const auto& h : headers) {
    list = curl_slist_append(list, h.c_str());
    if (h.size() >= 7 && strncasecmp(h.c_str(), "expect:", 7) == 0) {
      has_expect = true;
    }
  }
  if (!has_expect) {
    // Never let curl add "Expect: 100-continue" on its own: tests ask for it explicitly.
    list = curl_slist_append(list, "Expect:");
  }
  if (chunked) {
    list = curl_slist_append(list, "Transfer-Encoding: chunked");
  }

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // never through a proxy: loopback only
  if (method_str == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (method_str == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    if (chunked) {
      curl_easy_setopt(c, CURLOPT_READFUNCTION, onRead);
      curl_easy_setopt(c, CURLOPT_READDATA, &transfer);
    } else {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    if (method_str != "POST") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method_str.c_str());
    }
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);

  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  long connects = 0;
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
  connects_ += connects;
  if (rc != CURLE_OK) {
    response.error = curl_easy_strerror(rc);
    response.status = 0;
    return response;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

HttpResponse httpRequest(std::string_view method, const std::string& url, std::string_view body,
                         const std::vector<std::string>& headers, std::chrono::milliseconds timeout,
                         bool chunked) {
  HttpClient client;
  return client.request(method, url, body, headers, timeout, chunked);
}

std::string urlEncode(std::string_view text) {
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char ch : text) {
    if (std::isalnum(ch) != 0 || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

std::string gzipCompress(std::string_view data, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzipCompress: deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 64);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    throw std::runtime_error("gzipCompress: deflate failed");
  }
  out.resize(produced);
  return out;
}

std::string gunzip(std::string_view data) {
  std::string out;
  std::size_t pos = 0;
  char buf[64 * 1024];
  // One member at a time, so concatenated members decode like `gzip -d` does.
  do {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
      throw std::runtime_error("gunzip: inflateInit2 failed");
    }
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + pos));
    zs.avail_in = static_cast<uInt>(data.size() - pos);
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof(buf);
      rc = inflate(&zs, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        inflateEnd(&zs);
        throw std::runtime_error("gunzip: corrupt or truncated gzip data");
      }
      out.append(buf, sizeof(buf) - zs.avail_out);
      if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
        inflateEnd(&zs);
        throw std::runtime_error("gunzip: truncated gzip data");
      }
    }
    pos += zs.total_in;
    inflateEnd(&zs);
  } while (pos < data.size());
  return out;
}

}  // namespace ingestd::test
