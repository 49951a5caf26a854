// JSON string helpers shared by the parsers: writing a JSON string from raw bytes (structured
// data, types), finding the end of a quoted string and decoding its escapes (docker lines,
// logfmt quoted values). No allocation beyond the output string's growth.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ingestd::parsers {

// Appends `raw` as a quoted JSON string: '"' and '\\' escaped, control characters as \n, \t,
// ... or \u00XX, and every byte that is not part of valid UTF-8 as \ufffd, so the result is
// always valid JSON whatever the input.
void appendJsonString(std::string& out, std::string_view raw);

// The index of the '"' that closes the string whose content starts at text[pos] (just after the
// opening quote), skipping backslash escapes; npos when it is not closed. `escaped` says whether
// the content holds a backslash (when not, it can be used as is).
std::size_t findStringEnd(std::string_view text, std::size_t pos, bool& escaped);

enum class EscapeMode : bool {
  kStrict,   // JSON: an unknown escape or a bad \u fails
  kLenient,  // logfmt: an unknown escape is kept as written (backslash and character)
};

// Appends the content of a quoted string (without its quotes) to `out`, decoding \" \\ \/ \b
// \f \n \r \t and \uXXXX (surrogate pairs joined; a lone surrogate becomes U+FFFD). Returns
// false (strict mode) on a bad escape; `out` then holds a prefix.
bool unescapeString(std::string_view content, std::string& out, EscapeMode mode);

}  // namespace ingestd::parsers
