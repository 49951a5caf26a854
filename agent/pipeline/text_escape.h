// Escaping of record text for the output formats: JSON string content and CSV/TSV fields, both
// repairing invalid UTF-8 on the way. The write* functions are the hot-path form: they write
// into memory the caller has already reserved, so the encoder checks capacity once per record.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ingestd {

// Room writeJsonEscaped needs: one byte may become six ("\u001f"); the SIMD path also stores
// up to 16 bytes beyond what it keeps.
constexpr std::size_t jsonEscapedBound(std::size_t n) { return 6 * n + 16; }

// Writes `in` as the content of a JSON string (without the surrounding quotes): `"` and `\`
// are backslash-escaped; control characters below 0x20 become \n \r \t \b \f or \u00XX; DEL and
// valid non-ASCII UTF-8 pass through unchanged; each maximal ill-formed UTF-8 subpart becomes
// U+FFFD and sets `repaired`. dst must have jsonEscapedBound(in.size()) bytes of room.
char* writeJsonEscaped(char* dst, std::string_view in, bool& repaired);

// Appends the JSON string content of `in` to `out` (see writeJsonEscaped).
void appendJsonEscaped(std::string& out, std::string_view in, bool& repaired);

// Room writeDelimitedField needs: quotes double, an invalid byte becomes three, plus 2 quotes
// and 16 bytes the SIMD path may store beyond what it keeps.
constexpr std::size_t delimitedFieldBound(std::size_t n) { return 3 * n + 18; }

// Writes `in` as one field of a delimiter-separated record, RFC 4180 style: when the field
// holds the separator, `"`, CR or LF it is enclosed in quotes and each `"` is doubled;
// otherwise it is written as is. Invalid UTF-8 is repaired (sets `repaired`). Used for CSV
// (separator ',') and TSV (separator '\t'; Kusto reads TSV with the CSV quoting rules).
char* writeDelimitedField(char* dst, std::string_view in, char separator, bool& repaired);

void appendDelimitedField(std::string& out, std::string_view in, char separator, bool& repaired);

// First byte in [p, end) that is `"`, `\`, below 0x20 or at least 0x80 (what a JSON string
// scanner must look at), or end.
const char* findJsonStringSpecial(const char* p, const char* end);

}  // namespace ingestd
