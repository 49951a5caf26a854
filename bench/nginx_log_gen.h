// Deterministic nginx access-log generator ("combined" format) for benchmarks: the same seed
// gives the same bytes on every machine. Header-only so any bench or tool can use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

#include <fmt/format.h>

namespace ingestd::bench {

class NginxLogGenerator {
 public:
  explicit NginxLogGenerator(std::uint64_t seed = 20261123) : rng_(seed) {
    for (auto& ip : clients_) {
      ip = fmt::format("{}.{}.{}.{}", 1 + next(223), next(256), next(256), 1 + next(254));
    }
  }

  // Appends one line, '\n' included.
  void appendLine(std::string& out) { append(out, false); }
  // The same request as a JSON application-log line (what `parser: json` reads): time, level,
  // the request's fields (status and bytes as numbers) and a duration, '\n' included.
  void appendJsonLine(std::string& out) { append(out, true); }

 private:
  void append(std::string& out, bool json) {
    // Clients follow a rough power law: a few addresses make most requests.
    std::size_t c = next(kClients);
    c = (c * c) / kClients;
    const std::string& ip = clients_[c];
    seconds_ += next(3) == 0 ? 1 : 0;
    const std::uint64_t t = kStart + seconds_;
    const int sec = static_cast<int>(t % 60);
    const int min = static_cast<int>((t / 60) % 60);
    const int hour = static_cast<int>((t / 3600) % 24);
    const int day = static_cast<int>(t / 86400);

    static const char* kMethods[] = {"GET",  "GET",  "GET", "GET",    "GET", "GET",
                                     "POST", "POST", "PUT", "DELETE", "HEAD"};
    static const char* kPaths[] = {"/",
                                   "/index.html",
                                   "/favicon.ico",
                                   "/robots.txt",
                                   "/static/js/app.{}.js",
                                   "/static/css/main.{}.css",
                                   "/images/products/{}.jpg",
                                   "/api/v1/products/{}",
                                   "/api/v1/products?page={}&limit=50",
                                   "/api/v1/cart/{}/items",
                                   "/api/v2/search?q=item{}",
                                   "/login",
                                   "/logout",
                                   "/account/orders/{}",
                                   "/healthz",
                                   "/metrics"};
    static const int kStatuses[] = {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,
                                    304, 304, 301, 302, 400, 401, 403, 404, 404, 499, 500, 502};
    static const char* kReferrers[] = {"-",
                                       "-",
                                       "-",
                                       "https://www.example.com/",
                                       "https://www.example.com/products",
                                       "https://www.google.com/",
                                       "https://www.bing.com/search?q=shop",
                                       "https://shop.example.com/cart?ref=email&campaign=winter"};
    static const char* kAgents[] = {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.6 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "curl/8.5.0",
        "Go-http-client/1.1",
        "python-requests/2.32.3",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "kube-probe/1.31"};

    const char* method = kMethods[next(std::size(kMethods))];
    std::string path = fmt::format(fmt::runtime(kPaths[next(std::size(kPaths))]), next(100000));
    const int status = kStatuses[next(std::size(kStatuses))];
    const std::uint64_t bytes = status == 304 ? 0 : next(2) == 0 ? next(2000) : next(250000);
    if (json) {
      const char* level = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
      fmt::format_to(std::back_inserter(out),
                     "{{\"time\":\"2026-11-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"level\":\"{}\","
                     "\"msg\":\"request served\",\"remote_addr\":\"{}\",\"method\":\"{}\","
                     "\"path\":\"{}\",\"status\":{},\"bytes\":{},\"referer\":\"{}\","
                     "\"user_agent\":\"{}\",\"duration_ms\":{}}}\n",
                     day, hour, min, sec, next(1000), level, ip, method, path, status, bytes,
                     kReferrers[next(std::size(kReferrers))], kAgents[next(std::size(kAgents))],
                     next(2000));
      return;
    }
    fmt::format_to(std::back_inserter(out),
                   "{} - - [{:02}/Nov/2026:{:02}:{:02}:{:02} +0000] \"{} {} HTTP/1.1\" {} {} "
                   "\"{}\" \"{}\"\n",
                   ip, day, hour, min, sec, method, path, status, bytes,
                   kReferrers[next(std::size(kReferrers))], kAgents[next(std::size(kAgents))]);
  }


 public:
  // About `bytes` of whole lines (the last line may end past `bytes`).
  std::string generate(std::size_t bytes) {
    std::string out;
    out.reserve(bytes + 1024);
    while (out.size() < bytes) {
      appendLine(out);
    }
    return out;
  }

 private:
  static constexpr std::size_t kClients = 5000;
  static constexpr std::uint64_t kStart = 23 * 86400 + 6 * 3600;  // 23 Nov, 06:00:00

  std::size_t next(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }

  std::mt19937_64 rng_;
  std::string clients_[kClients];
  std::uint64_t seconds_ = 0;
};

}  // namespace ingestd::bench
