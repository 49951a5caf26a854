// UTF-8 validation and repair. Invalid input is never rejected: each maximal ill-formed subpart
// (Unicode 15, §3.9 "U+FFFD Substitution of Maximal Subparts") becomes one U+FFFD.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ingestd {

// U+FFFD REPLACEMENT CHARACTER in UTF-8.
inline constexpr char kUtf8Replacement[] = "\xEF\xBF\xBD";
inline constexpr std::size_t kUtf8ReplacementSize = 3;

// Looks at the sequence starting at p (p < end, *p >= 0x80). Returns n > 0 when p starts a
// well-formed sequence of n bytes, or -m (m >= 1) when it starts an ill-formed one whose maximal
// subpart is m bytes: replace those m bytes by one U+FFFD and continue at p + m.
// Well-formed means: no overlongs, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
inline int utf8Sequence(const unsigned char* p, const unsigned char* end) {
  const unsigned char lead = p[0];
  int n;
  unsigned char lo = 0x80;  // allowed range of the second byte; later ones are 80..BF
  unsigned char hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0) {
      lo = 0xA0;  // below: overlong
    } else if (lead == 0xED) {
      hi = 0x9F;  // above: surrogates
    }
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0) {
      lo = 0x90;  // below: overlong
    } else if (lead == 0xF4) {
      hi = 0x8F;  // above: > U+10FFFF
    }
  } else {
    return -1;  // 80..C1 (continuation or overlong lead), F5..FF
  }
  const std::ptrdiff_t avail = end - p;
  if (avail < 2 || p[1] < lo || p[1] > hi) {
    return -1;
  }
  for (int i = 2; i < n; ++i) {
    if (avail <= i || p[i] < 0x80 || p[i] > 0xBF) {
      return -i;
    }
  }
  return n;
}

// True when all of `in` is well-formed UTF-8.
bool isValidUtf8(std::string_view in);

// Length of the longest prefix of `in` that is well-formed UTF-8 and does not end inside a
// sequence (so `in.substr(0, n)` is valid).
std::size_t validUtf8Prefix(std::string_view in);

// Appends `in` to `out` with every maximal ill-formed subpart replaced by U+FFFD. Sets
// `repaired` to true when anything was replaced (never resets it to false).
void appendUtf8Repaired(std::string& out, std::string_view in, bool& repaired);

// The writing core of appendUtf8Repaired: dst must have room for 3 * in.size() bytes (an
// invalid byte becomes 3). Returns the end of what was written.
char* writeUtf8Repaired(char* dst, std::string_view in, bool& repaired);

}  // namespace ingestd
