// Recursive-descent JSON validator; string contents are skipped with the SIMD scanner shared
// with the JSON escaper, so validating a typical record costs about one pass over its bytes.
#include "agent/pipeline/json_validate.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agent/pipeline/text_escape.h"
#include "agent/pipeline/utf8.h"

namespace ingestd {

namespace {

class Validator {
 public:
  explicit Validator(std::string_view text)
      : p_(reinterpret_cast<const unsigned char*>(text.data())), end_(p_ + text.size()) {}

  // Whitespace, one value of the wanted kind, whitespace, end.
  bool document(bool object_only) {
    skipWhitespace();
    if (object_only && (p_ == end_ || *p_ != '{')) {
      return false;
    }
    if (!value(0)) {
      return false;
    }
    skipWhitespace();
    return p_ == end_;
  }

 private:
  void skipWhitespace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) {
      ++p_;
    }
  }

  bool value(int depth) {
    if (p_ == end_) {
      return false;
    }
    switch (*p_) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': return string();
      case 't': return literal("true", 4);
      case 'f': return literal("false", 5);
      case 'n': return literal("null", 4);
      default: return number();
    }
  }

  bool object(int depth) {
    if (depth > kMaxJsonDepth) {
      return false;
    }
    ++p_;  // '{'
    skipWhitespace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"' || !string()) {
        return false;
      }
      skipWhitespace();
      if (p_ == end_ || *p_ != ':') {
        return false;
      }
      ++p_;
      skipWhitespace();
      if (!value(depth)) {
        return false;
      }
      skipWhitespace();
      if (p_ == end_) {
        return false;
      }
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') {
        return false;
      }
      ++p_;
      skipWhitespace();
    }
  }

  bool array(int depth) {
    if (depth > kMaxJsonDepth) {
      return false;
    }
    ++p_;  // '['
    skipWhitespace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      if (!value(depth)) {
        return false;
      }
      skipWhitespace();
      if (p_ == end_) {
        return false;
      }
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') {
        return false;
      }
      ++p_;
      skipWhitespace();
    }
  }

  // The value of the four hex digits at q (within bounds), or -1.
  int hex4(const unsigned char* q) const {
    if (end_ - q < 4) {
      return -1;
    }
    int v = 0;
    for (int i = 0; i < 4; ++i) {
      const unsigned char c = q[i];
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  bool string() {
    ++p_;  // '"'
    for (;;) {
      p_ = reinterpret_cast<const unsigned char*>(findJsonStringSpecial(
          reinterpret_cast<const char*>(p_), reinterpret_cast<const char*>(end_)));
      if (p_ == end_) {
        return false;
      }
      const unsigned char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) {
        return false;  // raw control characters are not allowed in strings
      }
      if (c >= 0x80) {
        int n = utf8Sequence(p_, end_);
        if (n < 0) {
          return false;
        }
        p_ += n;
        continue;
      }
      // Backslash.
      if (end_ - p_ < 2) {
        return false;
      }
      switch (p_[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't': p_ += 2; break;
        case 'u': {
          // A high surrogate must be followed by an escaped low one and a low one must not
          // stand alone: such strings are grammatical, but parsers disagree on what they mean.
          int unit = hex4(p_ + 2);
          if (unit < 0) {
            return false;
          }
          p_ += 6;
          if (unit >= 0xDC00 && unit <= 0xDFFF) {
            return false;
          }
          if (unit >= 0xD800 && unit <= 0xDBFF) {
            if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') {
              return false;
            }
            int low = hex4(p_ + 2);
            if (low < 0xDC00 || low > 0xDFFF) {
              return false;
            }
            p_ += 6;
          }
          break;
        }
        default: return false;
      }
    }
  }

  bool digits() {
    const unsigned char* start = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      ++p_;
    }
    return p_ != start;
  }

  bool number() {
    const unsigned char* start = p_;
    if (!numberSyntax()) {
      return false;
    }
    // A number past the range of a double (e.g. 4E448) is valid JSON, but common JSON
    // readers refuse it; treat it as invalid so the line is sent as a string, never risking a
    // rejected block. Only long numbers or ones with an exponent need the check.
    const auto len = static_cast<std::size_t>(p_ - start);
    if (len > 15 || std::memchr(start, 'e', len) != nullptr ||
        std::memchr(start, 'E', len) != nullptr) {
      const std::string text(reinterpret_cast<const char*>(start), len);
      return std::isfinite(std::strtod(text.c_str(), nullptr));
    }
    return true;
  }

  bool numberSyntax() {
    if (p_ < end_ && *p_ == '-') {
      ++p_;
    }
    if (p_ == end_) {
      return false;
    }
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      digits();
    } else {
      return false;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (!digits()) {
        return false;
      }
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) {
        ++p_;
      }
      if (!digits()) {
        return false;
      }
    }
    return true;
  }

  bool literal(const char* word, std::ptrdiff_t n) {
    if (end_ - p_ < n) {
      return false;
    }
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      if (p_[i] != static_cast<unsigned char>(word[i])) {
        return false;
      }
    }
    p_ += n;
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
};

}  // namespace

bool isValidJsonObject(std::string_view text) { return Validator(text).document(true); }

bool isValidJsonValue(std::string_view text) { return Validator(text).document(false); }

}  // namespace ingestd
