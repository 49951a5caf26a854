// Unit tests for UTF-8 validation and repair: every class of ill-formed sequence.
#include <doctest/doctest.h>

#include <string>

#include "agent/pipeline/utf8.h"

namespace ingestd {
namespace {

const std::string R = kUtf8Replacement;

std::string repair(std::string_view in, bool* repaired_out = nullptr) {
  std::string out;
  bool repaired = false;
  appendUtf8Repaired(out, in, repaired);
  if (repaired_out != nullptr) {
    *repaired_out = repaired;
  }
  // The writer form must agree.
  std::string buf(3 * in.size() + 1, '\0');
  bool repaired2 = false;
  char* end = writeUtf8Repaired(buf.data(), in, repaired2);
  CHECK(std::string(buf.data(), end) == out);
  CHECK(repaired == repaired2);
  CHECK(isValidUtf8(out));
  return out;
}

}  // namespace

TEST_CASE("utf8: valid text passes unchanged") {
  const char* valid[] = {
      "",
      "plain ascii with DEL \x7f and NUL-free controls \x01\x1f",
      "\xC2\x80 \xDF\xBF",                  // 2-byte range ends
      "\xE0\xA0\x80 \xEF\xBF\xBF",          // 3-byte range ends
      "\xED\x9F\xBF \xEE\x80\x80",          // around the surrogates
      "\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF",  // 4-byte range ends (U+10000, U+10FFFF)
      "h\xC3\xA9llo w\xC3\xB6rld \xE2\x82\xAC \xF0\x9F\x98\x80",  // é ö € 😀
  };
  for (const char* s : valid) {
    CAPTURE(s);
    CHECK(isValidUtf8(s));
    CHECK(validUtf8Prefix(s) == std::string_view(s).size());
    bool repaired = true;
    std::string out;
    bool r = false;
    appendUtf8Repaired(out, s, r);
    repaired = r;
    CHECK_FALSE(repaired);
    CHECK(out == s);
  }
  // Long valid input exercises the 16-byte path.
  std::string longer(1000, 'a');
  longer += "\xF0\x9F\x98\x80";
  longer += std::string(33, 'b');
  CHECK(isValidUtf8(longer));
}

TEST_CASE("utf8: each ill-formed class becomes U+FFFD (maximal subparts)") {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"\x80", R},                           // lone continuation byte
      {"\xBF", R},                           //
      {"a\x80\x80z", "a" + R + R + "z"},     // each stray continuation separately
      {"\xC0\x80", R + R},                   // overlong 2-byte lead C0
      {"\xC1\xBF", R + R},                   // overlong 2-byte lead C1
      {"\xE0\x80\x80", R + R + R},           // overlong 3-byte (second byte < A0)
      {"\xE0\x9F\xBF", R + R + R},           //
      {"\xF0\x80\x80\x80", R + R + R + R},   // overlong 4-byte (second byte < 90)
      {"\xF0\x8F\xBF\xBF", R + R + R + R},   //
      {"\xED\xA0\x80", R + R + R},           // surrogate U+D800
      {"\xED\xBF\xBF", R + R + R},           // surrogate U+DFFF
      {"\xF4\x90\x80\x80", R + R + R + R},   // above U+10FFFF
      {"\xF5\x80\x80\x80", R + R + R + R},   // lead F5
      {"\xFF", R},                           // never valid
      {"\xFE\xFF", R + R},                   //
      {"\xC3", R},                           // truncated 2-byte at end
      {"\xC3z", R + "z"},                    // truncated 2-byte before ASCII
      {"\xE2\x82", R},                       // truncated 3-byte: one U+FFFD
      {"\xE2\x82z", R + "z"},                //
      {"\xF0\x9F\x98", R},                   // truncated 4-byte: one U+FFFD
      {"\xF0\x9F\x98z", R + "z"},            //
      {"\xF0\x9F", R},                       //
      {"\xE2\x82\xC3\xA9", R + "\xC3\xA9"},  // truncated, then a valid sequence
      {"\xF0\x9F\x98\xF0\x9F\x98\x80", R + "\xF0\x9F\x98\x80"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.in);
    CHECK_FALSE(isValidUtf8(c.in));
    bool repaired = false;
    CHECK(repair(c.in, &repaired) == c.out);
    CHECK(repaired);
  }
}

TEST_CASE("utf8: validUtf8Prefix stops before an incomplete or bad sequence") {
  CHECK(validUtf8Prefix("abc\xE2\x82") == 3);
  CHECK(validUtf8Prefix("abc\xE2\x82\xAC") == 6);
  CHECK(validUtf8Prefix("\x80"
                        "abc") == 0);
  std::string s(40, 'x');
  s += "\xC3";
  CHECK(validUtf8Prefix(s) == 40);
}

TEST_CASE("utf8: repair inside long ASCII runs") {
  std::string in =
      std::string(37, 'a') + "\xFF" + std::string(20, 'b') + "\xE2\x82" + std::string(17, 'c');
  bool repaired = false;
  CHECK(repair(in, &repaired) ==
        std::string(37, 'a') + R + std::string(20, 'b') + R + std::string(17, 'c'));
  CHECK(repaired);
}

}  // namespace ingestd
