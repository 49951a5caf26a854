// Pure request building for the kusto output (see kusto_request.h).
#include "plugins/outputs/kusto/kusto_request.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace ingestd::outputs::kusto {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool isIpv4Literal(std::string_view host) {
  int parts = 0;
  std::size_t start = 0;
  while (start <= host.size()) {
    std::size_t dot = host.find('.', start);
    std::string_view part = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty() || part.size() > 3) {
      return false;
    }
    int value = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (ec != std::errc() || ptr != part.data() + part.size() || value > 255) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return parts == 4;
}

bool validHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return false;
  }
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) {
      return false;
    }
  }
  return true;
}

bool validIpv6(std::string_view host) {
  if (host.empty()) {
    return false;
  }
  for (char c : host) {
    if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) {
      return false;
    }
  }
  return host.find(':') != std::string_view::npos;
}

}  // namespace

std::string ClusterUrl::base() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port == 0) {
    return fmt::format("{}://{}", scheme, h);
  }
  return fmt::format("{}://{}:{}", scheme, h, port);
}

std::string ClusterUrl::origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return fmt::format("{}://{}", scheme, h);
}

Result<ClusterUrl> parseClusterUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return makeError(ErrorCode::kInvalidArgument, "'{}' is not a valid URL: {}", url, why);
  };
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    return bad("expected https://<host>[:port]");
  }
  ClusterUrl out;
  out.scheme = lower(url.substr(0, sep));
  if (out.scheme != "https" && out.scheme != "http") {
    return bad("the scheme must be https (or http for a local endpoint)");
  }
  std::string_view rest = url.substr(sep + 3);
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (!tail.empty() && tail != "/") {
    return bad("it must not have a path, query or fragment (just https://<host>[:port])");
  }
  if (authority.find('@') != std::string_view::npos) {
    return bad("user information is not allowed in the URL");
  }
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return bad("unterminated IPv6 literal");
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return bad("unexpected text after the IPv6 literal");
      }
      port = after.substr(1);
      if (port.empty()) {
        return bad("empty port");
      }
    }
    if (!validIpv6(host)) {
      return bad("invalid IPv6 literal");
    }
  } else {
    auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) {
        return bad("empty port");
      }
    }
    if (!validHostName(host)) {
      return bad(host.empty() ? "the host is missing" : "the host name has invalid characters");
    }
  }
  out.host = lower(host);
  if (!port.empty()) {
    int p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p < 1 || p > 65535) {
      return bad("the port must be a number from 1 to 65535");
    }
    out.port = p;
  }
  return out;
}

bool isReservedHost(std::string_view host) {
  return host == "localhost" || host == "onebox.dev.kusto.windows.net" || isIpv4Literal(host) ||
         host.find(':') != std::string_view::npos;
}

bool isLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || (isIpv4Literal(host) && host.starts_with("127."));
}

std::string stripIngestPrefix(std::string_view host) {
  if (isReservedHost(host) || !host.starts_with("ingest-")) {
    return std::string(host);
  }
  return std::string(host.substr(7));
}

std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string ingestUrl(std::string_view base, std::string_view database, std::string_view table,
                      std::string_view format, std::string_view mapping) {
  std::string url =
      fmt::format("{}/v1/rest/ingest/{}/{}?streamFormat={}", base, percentEncode(database),
                  percentEncode(table), percentEncode(format));
  if (!mapping.empty()) {
    url += "&mappingName=";
    url += percentEncode(mapping);
  }
  return url;
}

std::string asciiHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      out.push_back('?');
      // Skip the continuation bytes of this UTF-8 sequence: one '?' per character.
      while (i + 1 < value.size() && (static_cast<unsigned char>(value[i + 1]) & 0xC0) == 0x80) {
        ++i;
      }
    } else if (c < 0x20 || c == 0x7F) {
      out.push_back('?');
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string clientDetailValue(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '{' || c == '}' || c == '|') {
      c = '_';
    }
  }
  return out;
}

std::string clientVersionHeader(std::string_view version, std::string_view runtime) {
  return fmt::format("Kusto.ingestd:{{{}}}|Runtime.cpp:{{{}}}", clientDetailValue(version),
                     clientDetailValue(runtime));
}

std::string compilerRuntime() {
#if defined(__clang__)
  return fmt::format("clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  return fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

std::string clientRequestId(std::string_view prefix, std::string_view block_id,
                            std::uint32_t attempt) {
  return fmt::format("{}.executeStreamingIngest;{};{}", prefix, block_id, attempt);
}

Headers ingestHeaders(const RequestIdentity& identity, std::string_view block_id,
                      std::uint32_t attempt, std::string_view token) {
  Headers h;
  h.reserve(11);
  if (!token.empty()) {
    h.emplace_back("Authorization", asciiHeaderValue(fmt::format("Bearer {}", token)));
  }
  h.emplace_back("Content-Type", "application/octet-stream");
  h.emplace_back("Content-Encoding", "gzip");
  h.emplace_back("Accept", "application/json");
  h.emplace_back("Connection", "Keep-Alive");
  h.emplace_back("x-ms-version", std::string(kApiVersion));
  h.emplace_back("x-ms-client-request-id",
                 asciiHeaderValue(clientRequestId(identity.request_id_prefix, block_id, attempt)));
  h.emplace_back("x-ms-client-version", asciiHeaderValue(identity.client_version));
  h.emplace_back("x-ms-app", asciiHeaderValue(identity.app));
  h.emplace_back("x-ms-user", asciiHeaderValue(identity.user));
  return h;
}

}  // namespace ingestd::outputs::kusto
