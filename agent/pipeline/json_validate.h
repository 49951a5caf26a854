// A single-pass JSON validator (RFC 8259) that builds nothing: it lets the encoder pass JSON
// records through byte for byte instead of parsing and re-printing them.
#pragma once

#include <cstddef>
#include <string_view>

namespace ingestd {

// Containers nested deeper than this are treated as invalid (the record then falls back to
// "message"): it bounds the validator's recursion.
inline constexpr int kMaxJsonDepth = 64;

// True when `text` is exactly one well-formed JSON object, optionally surrounded by JSON
// whitespace: strings with valid escapes (\u escapes of surrogates only as proper pairs), no raw
// control characters and valid UTF-8 (no overlongs or surrogates), numbers per the RFC grammar, the
// literals true/false/null, at most kMaxJsonDepth nested containers. Duplicate keys are not
// checked.
bool isValidJsonObject(std::string_view text);

// The same for any JSON value (object, array, string, number, literal).
bool isValidJsonValue(std::string_view text);

}  // namespace ingestd
