// HTTP/1.x request heads and responses for the status server (see status_http.h).
#include "agent/metrics/status_http.h"

#include <fmt/format.h>

namespace ingestd::status_http {

namespace {

// RFC 9110 5.6.2 token characters (method and header names).
bool isTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!isTchar(c)) {
      return false;
    }
  }
  return true;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Next line of `rest` without its LF or CRLF; advances `rest`.
std::string_view nextLine(std::string_view& rest) {
  auto nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

bool hasControl(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return true;
    }
  }
  return false;
}

// "/path?query" -> "/path"; absolute form "http://host/path" -> "/path". Empty when invalid.
std::string targetPath(std::string_view target) {
  if (target.empty() || hasControl(target)) {
    return {};
  }
  if (target == "*") {
    return "*";
  }
  if (target.front() != '/') {
    auto scheme = target.find("://");
    if (scheme == std::string_view::npos) {
      return {};
    }
    auto slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  return std::string(target.substr(0, target.find_first_of("?#")));
}

// Applies one header line to `head`. False when the line is malformed.
bool applyHeader(std::string_view line, RequestHead& head, bool& saw_connection_close,
                 bool& saw_keep_alive) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) {
    return false;  // also rejects obsolete line folding and "Name :"
  }
  std::string_view name = line.substr(0, colon);
  std::string_view value = trim(line.substr(colon + 1));
  if (hasControl(value)) {
    return false;
  }
  if (iequals(name, "connection")) {
    while (!value.empty()) {
      auto comma = value.find(',');
      std::string_view option = trim(value.substr(0, comma));
      saw_connection_close = saw_connection_close || iequals(option, "close");
      saw_keep_alive = saw_keep_alive || iequals(option, "keep-alive");
      value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
    }
  } else if (iequals(name, "content-length")) {
    if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
    head.has_body = head.has_body || value.find_first_not_of('0') != std::string_view::npos;
  } else if (iequals(name, "transfer-encoding")) {
    head.has_body = true;
  }
  return true;
}

}  // namespace

std::size_t leadingEmptyLines(std::string_view data) {
  std::size_t n = 0;
  while (n < data.size() && (data[n] == '\r' || data[n] == '\n')) {
    ++n;
  }
  return n;
}

std::optional<std::size_t> findHeadEnd(std::string_view data, std::size_t from) {
  for (auto pos = data.find('\n', from); pos != std::string_view::npos;
       pos = data.find('\n', pos + 1)) {
    const std::size_t next = pos + 1;
    if (next < data.size() && data[next] == '\n') {
      return next + 1;
    }
    if (next + 1 < data.size() && data[next] == '\r' && data[next + 1] == '\n') {
      return next + 2;
    }
  }
  return std::nullopt;
}

ParseResult parseRequestHead(std::string_view head) {
  ParseResult r;
  std::string_view rest = head;
  std::string_view line = nextLine(rest);
  // method SP request-target SP HTTP-version, single spaces.
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    r.error = 400;
    return r;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view version = line.substr(sp2 + 1);
  r.head.path = targetPath(line.substr(sp1 + 1, sp2 - sp1 - 1));
  if (!isToken(method) || r.head.path.empty() || version.size() != 8 ||
      version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9') {
    r.error = 400;
    return r;
  }
  if (version[5] != '1') {
    r.error = 505;
    return r;
  }
  r.head.method = std::string(method);
  r.head.minor_version = version[7] - '0';
  bool close = false;
  bool keep_alive = false;
  for (line = nextLine(rest); !line.empty(); line = nextLine(rest)) {
    if (!applyHeader(line, r.head, close, keep_alive)) {
      r.error = 400;
      return r;
    }
  }
  r.head.keep_alive = !close && (r.head.minor_version >= 1 || keep_alive);
  return r;
}

std::string_view reasonPhrase(int code) {
  switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string formatResponse(const ResponseSpec& spec) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n"
      "{}Connection: {}\r\n\r\n",
      spec.code, reasonPhrase(spec.code), spec.content_type, spec.body.size(),
      spec.allow_header ? "Allow: GET, HEAD\r\n" : "", spec.keep_alive ? "keep-alive" : "close");
  if (spec.send_body) {
    out += spec.body;
  }
  return out;
}

}  // namespace ingestd::status_http
