// The logfmt parser plugin: one pass over the record collecting (key, value) pairs, then the
// pairs into the record with the last of each key winning.
#include "plugins/parsers/logfmt/logfmt_parser.h"

#include <cstdint>
#include <string>
#include <vector>

#include "plugins/common/json_text.h"
#include "plugins/common/parser_config.h"

namespace ingestd::parsers {
namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

struct Pair {
  std::string_view key;
  std::string_view value;     // into the record, unless in_scratch
  std::size_t scratch_begin;  // into the scratch buffer (it may move while pairs are added)
  std::size_t scratch_len;
  bool in_scratch;
  bool flag;  // a bare key: JSON true
};

struct Scratch {
  std::vector<Pair> pairs;
  std::string unescaped;
};

// A cheap 6-bit hash of a key: two keys with different bits are different; equal bits mean the
// keys must be compared.
unsigned keyBit(std::string_view k) {
  return (static_cast<unsigned>(k.size()) * 31u + static_cast<unsigned char>(k.front()) * 7u +
          static_cast<unsigned char>(k.back())) &
         63u;
}

// Collects the pairs of `record`; false when it is not logfmt.
bool collectPairs(std::string_view record, Scratch& s) {
  s.pairs.clear();
  s.unescaped.clear();
  bool any_value = false;
  std::size_t pos = 0;
  const std::size_t n = record.size();
  while (true) {
    while (pos < n && isSpace(record[pos])) {
      ++pos;
    }
    if (pos >= n) {
      break;
    }
    const std::size_t key_start = pos;
    while (pos < n && !isSpace(record[pos]) && record[pos] != '=' && record[pos] != '"') {
      ++pos;
    }
    if (pos == key_start || (pos < n && record[pos] == '"')) {
      return false;  // "=value" or a quote in a key
    }
    std::string_view key = record.substr(key_start, pos - key_start);
    if (key == "msg") {
      key = "message";
    }
    Pair p{key, {}, 0, 0, false, false};
    if (pos >= n || isSpace(record[pos])) {
      p.flag = true;
      s.pairs.push_back(p);
      continue;
    }
    ++pos;  // '='
    any_value = true;
    if (pos < n && record[pos] == '"') {
      bool escaped = false;
      const std::size_t end = findStringEnd(record, pos + 1, escaped);
      if (end == std::string_view::npos) {
        return false;  // unterminated quote
      }
      const std::string_view content = record.substr(pos + 1, end - pos - 1);
      pos = end + 1;
      if (pos < n && !isSpace(record[pos])) {
        return false;  // key="a"b
      }
      if (escaped) {
        p.in_scratch = true;
        p.scratch_begin = s.unescaped.size();
        (void)unescapeString(content, s.unescaped, EscapeMode::kLenient);
        p.scratch_len = s.unescaped.size() - p.scratch_begin;
      } else {
        p.value = content;
      }
    } else {
      const std::size_t value_start = pos;
      while (pos < n && !isSpace(record[pos])) {
        ++pos;
      }
      p.value = record.substr(value_start, pos - value_start);
    }
    s.pairs.push_back(p);
  }
  return any_value;
}

}  // namespace

Result<LogfmtSettings> LogfmtParser::parse(const ConfigNode& node) {
  if (auto r = parserSettingsReader(node)) {
    INGESTD_RETURN_IF_ERROR(r->finish());
  }
  return LogfmtSettings{};
}

Result<std::unique_ptr<Parser>> LogfmtParser::create(const Settings&) {
  return std::unique_ptr<Parser>(std::make_unique<LogfmtParser>());
}

bool LogfmtParser::parse(std::string_view record, ParsedRecord& out) const {
  thread_local Scratch s;
  if (!collectPairs(record, s)) {
    return false;
  }
  std::uint64_t seen = 0;
  bool maybe_duplicates = false;
  for (const Pair& p : s.pairs) {
    const std::uint64_t bit = std::uint64_t{1} << keyBit(p.key);
    maybe_duplicates = maybe_duplicates || (seen & bit) != 0;
    seen |= bit;
  }
  const std::size_t count = s.pairs.size();
  for (std::size_t i = 0; i < count; ++i) {
    const Pair& p = s.pairs[i];
    if (maybe_duplicates) {
      bool later = false;
      for (std::size_t j = i + 1; j < count && !later; ++j) {
        later = s.pairs[j].key == p.key;
      }
      if (later) {
        continue;  // the last one wins
      }
    }
    if (p.flag) {
      out.addJson(p.key, "true");
    } else if (p.in_scratch) {
      out.addString(p.key, std::string_view(s.unescaped).substr(p.scratch_begin, p.scratch_len));
    } else {
      out.addString(p.key, p.value);
    }
  }
  return true;
}

}  // namespace ingestd::parsers
