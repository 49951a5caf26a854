// Shared checks for the parser fuzz harnesses: a parsed record's fields are within bounds and
// every JSON field is valid JSON (the encoder writes kJson values as they are).
#pragma once

#include <cstdio>
#include <cstdlib>

#include "agent/pipeline/json_validate.h"
#include "agent/plugin/parser.h"

namespace ingestd::fuzz {

inline void parserCheck(bool ok, const char* what, int line) {
  if (!ok) {
    std::fprintf(stderr, "parser invariant failed: %s (line %d)\n", what, line);
    std::abort();
  }
}
#define PARSER_CHECK(c) ::ingestd::fuzz::parserCheck((c), #c, __LINE__)

inline void checkRecord(const ParsedRecord& r) {
  for (std::size_t i = 0; i < r.size(); ++i) {
    PARSER_CHECK(!r.key(i).empty());
    if (r.kind(i) == ParsedRecord::Kind::kJson) {
      PARSER_CHECK(isValidJsonValue(r.value(i)));
    }
  }
}

// Parses `data` as one record (a copy of exactly its size, so ASan sees any read past it).
inline void parseAndCheck(const Parser& p, std::string_view data) {
  thread_local ParsedRecord r;
  r.clear();
  if (p.parse(data, r)) {
    checkRecord(r);
  }
}

}  // namespace ingestd::fuzz
