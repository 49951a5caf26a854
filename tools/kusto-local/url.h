// URL pieces for kusto-local: percent-decoding of paths, query strings and form bodies.
// Pure functions, unit-tested and fuzzed through the request harness.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kusto_local {

// Decodes %XX escapes (and '+' as a space when plus_is_space, for query strings and
// application/x-www-form-urlencoded bodies). nullopt on a malformed escape.
std::optional<std::string> percentDecode(std::string_view s, bool plus_is_space);

// Parses "a=1&b=2" (a query string or a form body). Keys and values are percent-decoded;
// a key without '=' gets an empty value; the first occurrence of a key wins. nullopt when
// any escape is malformed.
std::optional<std::map<std::string, std::string>> parseQuery(std::string_view query);

// Splits "/a/b%2Fc/" into decoded segments {"a", "b/c"}, dropping empty segments.
// nullopt on a malformed escape.
std::optional<std::vector<std::string>> splitPath(std::string_view path);

// Looks a key up ignoring ASCII case (SDKs agree on "streamFormat", hand-written clients do
// not always); nullptr when absent.
const std::string* findParam(const std::map<std::string, std::string>& params,
                             std::string_view key);

bool equalsNoCase(std::string_view a, std::string_view b);

// The value of a hexadecimal digit, or -1.
int hexDigit(char c);

}  // namespace kusto_local
