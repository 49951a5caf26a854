// The docker parser plugin: a single-pass scan of the json-file object that decodes only the
// members it keeps.
#include "plugins/parsers/docker/docker_parser.h"

#include <string>

#include "plugins/common/json_text.h"
#include "plugins/common/parser_config.h"
#include "plugins/common/time_parse.h"

namespace ingestd::parsers {
namespace {

constexpr int kMaxDepth = 64;

bool isWs(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void skipWs(std::string_view s, std::size_t& pos) {
  while (pos < s.size() && isWs(s[pos])) {
    ++pos;
  }
}

// Skips one JSON value at s[pos] without checking it in detail (numbers, literals, nested
// containers: brackets are counted, strings skipped whole).
bool skipValue(std::string_view s, std::size_t& pos) {
  if (pos >= s.size()) {
    return false;
  }
  bool escaped = false;
  const char c = s[pos];
  if (c == '"') {
    const std::size_t end = findStringEnd(s, pos + 1, escaped);
    if (end == std::string_view::npos) {
      return false;
    }
    pos = end + 1;
    return true;
  }
  if (c == '{' || c == '[') {
    int depth = 0;
    while (pos < s.size()) {
      const char d = s[pos];
      if (d == '"') {
        const std::size_t end = findStringEnd(s, pos + 1, escaped);
        if (end == std::string_view::npos) {
          return false;
        }
        pos = end + 1;
        continue;
      }
      if (d == '{' || d == '[') {
        if (++depth > kMaxDepth) {
          return false;
        }
      } else if (d == '}' || d == ']') {
        --depth;
      }
      ++pos;
      if (depth == 0) {
        return true;
      }
    }
    return false;
  }
  const std::size_t start = pos;
  while (pos < s.size() && !isWs(s[pos]) && s[pos] != ',' && s[pos] != '}' && s[pos] != ']') {
    ++pos;
  }
  return pos > start;
}

// Whether `s` ends with the escape backslash + `ch` (an odd run of backslashes before ch).
bool endsWithEscape(std::string_view s, char ch) {
  if (s.size() < 2 || s.back() != ch) {
    return false;
  }
  std::size_t slashes = 0;
  for (std::size_t i = s.size() - 1; i > 0 && s[i - 1] == '\\'; --i) {
    ++slashes;
  }
  return slashes % 2 == 1;
}

struct Member {
  std::string_view raw;  // the string's content as written, escapes included
  bool escaped = false;
  bool present = false;
};

struct DockerLine {
  Member log;
  Member stream;
  Member time;
};

bool scanObject(std::string_view s, DockerLine& d) {
  std::size_t pos = 0;
  skipWs(s, pos);
  if (pos >= s.size() || s[pos] != '{') {
    return false;
  }
  ++pos;
  skipWs(s, pos);
  if (pos < s.size() && s[pos] == '}') {
    return false;  // {}: no log
  }
  while (true) {
    skipWs(s, pos);
    if (pos >= s.size() || s[pos] != '"') {
      return false;
    }
    bool key_escaped = false;
    const std::size_t key_end = findStringEnd(s, pos + 1, key_escaped);
    if (key_end == std::string_view::npos) {
      return false;
    }
    const std::string_view key = s.substr(pos + 1, key_end - pos - 1);
    pos = key_end + 1;
    skipWs(s, pos);
    if (pos >= s.size() || s[pos] != ':') {
      return false;
    }
    ++pos;
    skipWs(s, pos);
    Member* m = key_escaped       ? nullptr
                : key == "log"    ? &d.log
                : key == "stream" ? &d.stream
                : key == "time"   ? &d.time
                                  : nullptr;
    if (m != nullptr && pos < s.size() && s[pos] == '"') {
      const std::size_t end = findStringEnd(s, pos + 1, m->escaped);
      if (end == std::string_view::npos) {
        return false;
      }
      m->raw = s.substr(pos + 1, end - pos - 1);
      m->present = true;
      pos = end + 1;
    } else if (!skipValue(s, pos)) {
      return false;
    }
    skipWs(s, pos);
    if (pos < s.size() && s[pos] == ',') {
      ++pos;
      continue;
    }
    if (pos < s.size() && s[pos] == '}') {
      ++pos;
      break;
    }
    return false;
  }
  skipWs(s, pos);
  return pos == s.size() && d.log.present;
}

}  // namespace

Result<DockerSettings> DockerParser::parse(const ConfigNode& node) {
  if (auto r = parserSettingsReader(node)) {
    INGESTD_RETURN_IF_ERROR(r->finish());
  }
  return DockerSettings{};
}

Result<std::unique_ptr<Parser>> DockerParser::create(const Settings&) {
  return std::unique_ptr<Parser>(std::make_unique<DockerParser>());
}

bool DockerParser::parse(std::string_view record, ParsedRecord& out) const {
  thread_local std::string scratch;
  DockerLine d;
  if (!scanObject(record, d)) {
    return false;
  }
  std::string_view msg = d.log.raw;
  bool unescape = d.log.escaped;
  // One trailing newline goes, and a CR before it. The usual case: the only escape is that
  // "\n", so the content is used as is.
  bool newline = false;
  bool cr = false;
  if (unescape && endsWithEscape(msg, 'n')) {
    msg.remove_suffix(2);
    newline = true;
    if (endsWithEscape(msg, 'r')) {
      msg.remove_suffix(2);
      cr = true;
    }
    unescape = msg.find('\\') != std::string_view::npos;
  }
  if (unescape) {
    scratch.clear();
    if (!unescapeString(msg, scratch, EscapeMode::kStrict)) {
      return false;
    }
    msg = scratch;
    if (!newline && !msg.empty() && msg.back() == '\n') {  // written as \u000a
      msg.remove_suffix(1);
      newline = true;
    }
    if (newline && !cr && !msg.empty() && msg.back() == '\r') {
      msg.remove_suffix(1);
    }
  }
  out.addString("message", msg);
  if (d.stream.present) {
    out.addString("stream", d.stream.raw);
  }
  if (d.time.present) {
    if (auto t = parseRfc3339(d.time.raw)) {
      out.time_unix_ns = t;
    } else {
      out.addString("time", d.time.raw);
    }
  }
  return true;
}

}  // namespace ingestd::parsers
