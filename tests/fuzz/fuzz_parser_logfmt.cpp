// libFuzzer harness: the logfmt parser. A parsed record has each key once (the last value
// wins) and valid JSON for bare keys.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "plugins/parsers/logfmt/logfmt_parser.h"
#include "tests/fuzz/parser_fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ingestd::parsers::LogfmtParser p;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ingestd::ParsedRecord r;
  if (p.parse(text, r)) {
    ingestd::fuzz::checkRecord(r);
    for (std::size_t i = 0; i < r.size(); ++i) {
      PARSER_CHECK(r.find(r.key(i)) == i);
    }
  }
  return 0;
}
