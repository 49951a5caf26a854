// JSON string helpers shared by the parsers (see json_text.h).
#include "plugins/common/json_text.h"

#include <cstdint>

namespace ingestd::parsers {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (a byte >= 0x80), or 0 when invalid.
std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  const std::size_t left = s.size() - i;
  const auto cont = [&](std::size_t k) { return k < left && (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) {
    return cont(1) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(1) || !cont(2)) {
      return 0;
    }
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F)) {
      return 0;  // overlong, or a UTF-16 surrogate
    }
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) {
      return 0;
    }
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F)) {
      return 0;  // overlong, or past U+10FFFF
    }
    return 4;
  }
  return 0;
}

void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int hexValue(char c) {
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

// Four hex digits at s[i]; -1 when not.
std::int32_t hex4(std::string_view s, std::size_t i) {
  if (i + 4 > s.size()) {
    return -1;
  }
  std::int32_t v = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const int h = hexValue(s[i + k]);
    if (h < 0) {
      return -1;
    }
    v = v * 16 + h;
  }
  return v;
}

constexpr std::uint32_t kReplacement = 0xFFFD;

}  // namespace

void appendJsonString(std::string& out, std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < raw.size()) {
    std::size_t run = i;
    while (run < raw.size()) {
      const auto c = static_cast<unsigned char>(raw[run]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
        break;
      }
      ++run;
    }
    out.append(raw.data() + i, run - i);
    i = run;
    if (i >= raw.size()) {
      break;
    }
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8SequenceLength(raw, i);
      if (n == 0) {
        out.append("\\ufffd");
        ++i;
      } else {
        out.append(raw.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
        break;
    }
    ++i;
  }
  out.push_back('"');
}

std::size_t findStringEnd(std::string_view text, std::size_t pos, bool& escaped) {
  escaped = false;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '"') {
      return pos;
    }
    if (c == '\\') {
      escaped = true;
      pos += 2;
      continue;
    }
    ++pos;
  }
  return std::string_view::npos;
}

bool unescapeString(std::string_view content, std::string& out, EscapeMode mode) {
  std::size_t i = 0;
  while (i < content.size()) {
    const std::size_t slash = content.find('\\', i);
    if (slash == std::string_view::npos) {
      out.append(content.data() + i, content.size() - i);
      return true;
    }
    out.append(content.data() + i, slash - i);
    if (slash + 1 >= content.size()) {
      if (mode == EscapeMode::kStrict) {
        return false;
      }
      out.push_back('\\');
      return true;
    }
    const char e = content[slash + 1];
    i = slash + 2;
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        const std::int32_t hi = hex4(content, i);
        if (hi < 0) {
          if (mode == EscapeMode::kStrict) {
            return false;
          }
          out.append("\\u");
          break;
        }
        i += 4;
        std::uint32_t cp = static_cast<std::uint32_t>(hi);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          const std::int32_t lo =
              i + 1 < content.size() && content[i] == '\\' && content[i + 1] == 'u'
                  ? hex4(content, i + 2)
                  : -1;
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<std::uint32_t>(lo) - 0xDC00);
            i += 6;
          } else {
            cp = kReplacement;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = kReplacement;
        }
        appendUtf8(out, cp);
        break;
      }
      default:
        if (mode == EscapeMode::kStrict) {
          return false;
        }
        out.push_back('\\');
        out.push_back(e);
        break;
    }
  }
  return true;
}

}  // namespace ingestd::parsers
