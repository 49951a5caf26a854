// Percent-decoding and query/path splitting for kusto-local (see url.h).
#include "url.h"

namespace kusto_local {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool equalsNoCase(std::string_view a, std::string_view b) {
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

std::optional<std::string> percentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) {
        return std::nullopt;
      }
      int hi = hexDigit(s[i + 1]);
      int lo = hexDigit(s[i + 2]);
      if (hi < 0 || lo < 0) {
        return std::nullopt;
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::map<std::string, std::string>> parseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) {
      continue;
    }
    std::size_t eq = pair.find('=');
    auto key = percentDecode(pair.substr(0, eq), true);
    auto value =
        percentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1),
                      true);
    if (!key || !value) {
      return std::nullopt;
    }
    out.emplace(std::move(*key), std::move(*value));
  }
  return out;
}

std::optional<std::vector<std::string>> splitPath(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    std::size_t slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    if (seg.empty()) {
      continue;
    }
    // In a path '+' is a literal plus, not a space.
    auto decoded = percentDecode(seg, false);
    if (!decoded) {
      return std::nullopt;
    }
    out.push_back(std::move(*decoded));
  }
  return out;
}

const std::string* findParam(const std::map<std::string, std::string>& params,
                             std::string_view key) {
  if (auto it = params.find(std::string(key)); it != params.end()) {
    return &it->second;
  }
  for (const auto& [k, v] : params) {
    if (equalsNoCase(k, key)) {
      return &v;
    }
  }
  return nullptr;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace kusto_local
