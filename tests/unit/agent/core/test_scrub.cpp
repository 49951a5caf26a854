// Unit tests of scrubSecrets: every form a secret may be echoed in is replaced, nothing else is
// touched, short secrets are left alone.
#include <doctest/doctest.h>

#include <string>

#include "agent/core/scrub.h"

using ingestd::scrubSecrets;

TEST_CASE("scrub: a secret is replaced as is, percent-encoded and JSON-escaped") {
  const std::string secret = "Sup3r/Secr3t+Va~lue with \"q\" & more";
  const std::vector<std::string_view> secrets{secret};
  CHECK(scrubSecrets("client_secret=" + secret + ";", secrets) == "client_secret=***;");
  // As our form body carries it (upper-case hex, %20 for a space).
  CHECK(scrubSecrets("body: client_secret=Sup3r%2FSecr3t%2BVa~lue%20with%20%22q%22%20%26%20more"
                     "&scope=x",
                     secrets) == "body: client_secret=***&scope=x");
  // Lower-case hex, '+' for a space, '~' encoded (other encoders).
  CHECK(scrubSecrets("Sup3r%2fSecr3t%2bVa~lue+with+%22q%22+%26+more", secrets) == "***");
  CHECK(scrubSecrets("Sup3r%2FSecr3t%2BVa%7Elue+with+%22q%22+%26+more", secrets) == "***");
  // JSON-escaped, with and without an escaped '/'.
  CHECK(scrubSecrets(R"({"d":"Sup3r/Secr3t+Va~lue with \"q\" & more"})", secrets) ==
        R"({"d":"***"})");
  CHECK(scrubSecrets(R"({"d":"Sup3r\/Secr3t+Va~lue with \"q\" & more"})", secrets) ==
        R"({"d":"***"})");
  // Every occurrence, several secrets, the text around them unchanged.
  CHECK(scrubSecrets("a tok-123456 b " + secret + " c tok-123456", {secret, "tok-123456"}) ==
        "a *** b *** c ***");
  CHECK(scrubSecrets("nothing to see", secrets) == "nothing to see");
  CHECK(scrubSecrets("", secrets).empty());
}

TEST_CASE("scrub: short and empty secrets are ignored, text without them is unchanged") {
  CHECK(scrubSecrets("abc abc", {"abc"}) == "abc abc");
  CHECK(scrubSecrets("abcd abc", {"abcd"}) == "*** abc");
  CHECK(scrubSecrets("text", {""}) == "text");
  CHECK(scrubSecrets("text", {}) == "text");
  // A secret that is part of a longer word is still replaced: better a mangled word than a leak.
  CHECK(scrubSecrets("xxsecretxx", {"secret"}) == "xx***xx");
  // A control character in a secret: JSON escapes it as \n or \u00XX.
  CHECK(scrubSecrets(R"(a\nbcd and a\u0001bcd)", {"a\nbcd",
                                                  "a\x01"
                                                  "bcd"}) == "*** and ***");
}
