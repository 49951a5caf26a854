// JSON and CSV/TSV escaping with UTF-8 repair. Clean runs (the common case for ASCII logs) are
// found and copied 16 bytes at a time with SSE2; a scalar table loop is the portable fallback.
#include "agent/pipeline/text_escape.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "agent/pipeline/utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ingestd {

namespace {

// Non-zero for bytes a JSON string writer must look at.
constexpr std::array<std::uint8_t, 256> makeJsonSpecialTable() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') ? 1 : 0;
  }
  return t;
}
constexpr auto kJsonSpecial = makeJsonSpecialTable();

constexpr char kHex[] = "0123456789abcdef";

// Handles the byte at p, which kJsonSpecial flags, other than '"' and '\\' (writeJsonSpecial
// does those inline: they are the common case in log lines). Advances p and dst.
[[gnu::noinline]] void writeJsonRare(const unsigned char*& p, const unsigned char* end, char*& dst,
                                     bool& repaired) {
  const unsigned char c = *p;
  if (c >= 0x80) {
    int n = utf8Sequence(p, end);
    if (n > 0) {
      std::memcpy(dst, p, static_cast<std::size_t>(n));
      dst += n;
      p += n;
    } else {
      std::memcpy(dst, kUtf8Replacement, kUtf8ReplacementSize);
      dst += kUtf8ReplacementSize;
      p += -n;
      repaired = true;
    }
    return;
  }
  ++p;
  dst[0] = '\\';
  switch (c) {
    case '"':
    case '\\':
      dst[1] = static_cast<char>(c);
      dst += 2;
      return;
    case '\n':
      dst[1] = 'n';
      dst += 2;
      return;
    case '\r':
      dst[1] = 'r';
      dst += 2;
      return;
    case '\t':
      dst[1] = 't';
      dst += 2;
      return;
    case '\b':
      dst[1] = 'b';
      dst += 2;
      return;
    case '\f':
      dst[1] = 'f';
      dst += 2;
      return;
    default:
      std::memcpy(dst + 1, "u00", 3);
      dst[4] = kHex[c >> 4];
      dst[5] = kHex[c & 0xF];
      dst += 6;
      return;
  }
}

[[gnu::always_inline]] inline void writeJsonSpecial(const unsigned char*& p,
                                                    const unsigned char* end, char*& dst,
                                                    bool& repaired) {
  const unsigned char c = *p;
  if (c == '"' || c == '\\') {
    dst[0] = '\\';
    dst[1] = static_cast<char>(c);
    dst += 2;
    ++p;
    return;
  }
  writeJsonRare(p, end, dst, repaired);
}

#if defined(__SSE2__)
inline int jsonSpecialMask(__m128i v) {
  const __m128i special = _mm_or_si128(
      _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),  // signed: also every byte >= 0x80
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
  return _mm_movemask_epi8(special);
}
#endif

}  // namespace

const char* findJsonStringSpecial(const char* p, const char* end) {
#if defined(__SSE2__)
  while (end - p >= 16) {
    int mask = jsonSpecialMask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    if (mask != 0) {
      return p + __builtin_ctz(static_cast<unsigned>(mask));
    }
    p += 16;
  }
#endif
  while (p < end && kJsonSpecial[static_cast<unsigned char>(*p)] == 0) {
    ++p;
  }
  return p;
}

char* writeJsonEscaped(char* dst, std::string_view in, bool& repaired) {
  if (in.empty()) {
    return dst;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const auto* end = p + in.size();
#if defined(__SSE2__)
  // Store 16 bytes ahead unconditionally and keep only the clean prefix: no memcpy call per
  // run. The bound reserves the 16 bytes this may write past the final end.
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), v);
    int mask = jsonSpecialMask(v);
    if (mask == 0) {
      p += 16;
      dst += 16;
      continue;
    }
    int clean = __builtin_ctz(static_cast<unsigned>(mask));
    p += clean;
    dst += clean;
    writeJsonSpecial(p, end, dst, repaired);
  }
#endif
  while (p < end) {
    if (kJsonSpecial[*p] == 0) {
      *dst++ = static_cast<char>(*p++);
    } else {
      writeJsonSpecial(p, end, dst, repaired);
    }
  }
  return dst;
}

void appendJsonEscaped(std::string& out, std::string_view in, bool& repaired) {
  std::size_t used = out.size();
  out.resize(used + jsonEscapedBound(in.size()));
  char* end = writeJsonEscaped(out.data() + used, in, repaired);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

namespace {

// True when `in` holds the separator, '"', CR or LF, i.e. the field must be quoted.
bool needsQuotes(std::string_view in, char separator) {
  const char* p = in.data();
  const char* end = p + in.size();
#if defined(__SSE2__)
  const __m128i sep = _mm_set1_epi8(separator);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sep), _mm_cmpeq_epi8(v, quote)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
    if (_mm_movemask_epi8(hit) != 0) {
      return true;
    }
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    if (*p == separator || *p == '"' || *p == '\r' || *p == '\n') {
      return true;
    }
  }
  return false;
}

inline void writeUtf8Char(const unsigned char*& p, const unsigned char* end, char*& dst,
                          bool& repaired) {
  int n = utf8Sequence(p, end);
  if (n > 0) {
    std::memcpy(dst, p, static_cast<std::size_t>(n));
    dst += n;
    p += n;
  } else {
    std::memcpy(dst, kUtf8Replacement, kUtf8ReplacementSize);
    dst += kUtf8ReplacementSize;
    p += -n;
    repaired = true;
  }
}

}  // namespace

char* writeDelimitedField(char* dst, std::string_view in, char separator, bool& repaired) {
  if (!needsQuotes(in, separator)) {
    return writeUtf8Repaired(dst, in, repaired);
  }
  *dst++ = '"';
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const auto* end = p + in.size();
#if defined(__SSE2__)
  // Same store-ahead scheme as writeJsonEscaped; stops at '"' (doubled) and non-ASCII bytes.
  const __m128i quote = _mm_set1_epi8('"');
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), v);
    int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), v));
    if (mask == 0) {
      p += 16;
      dst += 16;
      continue;
    }
    int clean = __builtin_ctz(static_cast<unsigned>(mask));
    p += clean;
    dst += clean;
    if (*p == '"') {
      dst[0] = '"';
      dst[1] = '"';
      dst += 2;
      ++p;
    } else {
      writeUtf8Char(p, end, dst, repaired);
    }
  }
#endif
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      *dst++ = static_cast<char>(c);
      if (c == '"') {
        *dst++ = '"';
      }
      ++p;
    } else {
      writeUtf8Char(p, end, dst, repaired);
    }
  }
  *dst++ = '"';
  return dst;
}

void appendDelimitedField(std::string& out, std::string_view in, char separator, bool& repaired) {
  std::size_t used = out.size();
  out.resize(used + delimitedFieldBound(in.size()));
  char* end = writeDelimitedField(out.data() + used, in, separator, repaired);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

}  // namespace ingestd
