// UTF-8 validation and repair: ASCII runs are skipped 16 bytes at a time (SSE2) or 8 at a time
// (portable), multi-byte sequences are checked one by one.
#include "agent/pipeline/utf8.h"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ingestd {

namespace {

// First byte >= 0x80 in [p, end), or end.
const unsigned char* skipAscii(const unsigned char* p, const unsigned char* end) {
#if defined(__SSE2__)
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    int mask = _mm_movemask_epi8(v);
    if (mask != 0) {
      return p + __builtin_ctz(static_cast<unsigned>(mask));
    }
    p += 16;
  }
#else
  while (end - p >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    if ((w & 0x8080808080808080ULL) != 0) {
      break;
    }
    p += 8;
  }
#endif
  while (p < end && *p < 0x80) {
    ++p;
  }
  return p;
}

}  // namespace

bool isValidUtf8(std::string_view in) { return validUtf8Prefix(in) == in.size(); }

std::size_t validUtf8Prefix(std::string_view in) {
  const auto* begin = reinterpret_cast<const unsigned char*>(in.data());
  const auto* p = begin;
  const auto* end = begin + in.size();
  for (;;) {
    p = skipAscii(p, end);
    if (p == end) {
      return in.size();
    }
    int n = utf8Sequence(p, end);
    if (n < 0) {
      return static_cast<std::size_t>(p - begin);
    }
    p += n;
  }
}

char* writeUtf8Repaired(char* dst, std::string_view in, bool& repaired) {
  if (in.empty()) {
    return dst;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const auto* end = p + in.size();
  for (;;) {
    const auto* run_end = skipAscii(p, end);
    std::memcpy(dst, p, static_cast<std::size_t>(run_end - p));
    dst += run_end - p;
    p = run_end;
    if (p == end) {
      return dst;
    }
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
}

void appendUtf8Repaired(std::string& out, std::string_view in, bool& repaired) {
  std::size_t valid = validUtf8Prefix(in);
  if (valid == in.size()) {
    out.append(in);
    return;
  }
  out.append(in.substr(0, valid));
  std::size_t used = out.size();
  out.resize(used + 3 * (in.size() - valid));
  char* end = writeUtf8Repaired(out.data() + used, in.substr(valid), repaired);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

}  // namespace ingestd
