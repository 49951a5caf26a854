// libFuzzer harness: the cri parser and the partial-line reassembler. The input is cut into
// lines; each is parsed, and all are fed through a CriReassembler with a small max_bytes (from
// the first byte): every joined line keeps within max_bytes of message and parses as CRI when
// its first chunk did, and nothing stays pending after the flushes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plugins/parsers/cri/cri_parser.h"
#include "tests/fuzz/parser_fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ingestd::parsers;
  if (size < 1) {
    return 0;
  }
  const std::size_t max_bytes = data[0] % 64;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const CriParser p;
  CriReassembler a(max_bytes);
  const auto checkJoined = [&](std::string_view joined) {
    ingestd::fuzz::parseAndCheck(p, joined);
    // A joined line (one that is not simply an input line) is "<header> F <message>".
    auto c = splitCriLine(joined);
    if (c && !c->partial) {
      PARSER_CHECK(c->logtag != "P");
    }
  };
  std::size_t pos = 0;
  std::uint64_t truncated = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      nl = text.size();
    }
    const std::string line(text.substr(pos, nl - pos));  // exact size for ASan
    ingestd::fuzz::parseAndCheck(p, line);
    PARSER_CHECK(isCriPartial(line) == (splitCriLine(line) && splitCriLine(line)->partial));
    const bool partial = isCriPartial(line);
    auto out = a.feed(line);
    PARSER_CHECK(out.has_value() != partial);
    if (out) {
      checkJoined(*out);
    }
    PARSER_CHECK(a.truncatedBytes() >= truncated);
    truncated = a.truncatedBytes();
    pos = nl + 1;
  }
  while (auto out = a.flush()) {
    checkJoined(*out);
    auto c = splitCriLine(*out);
    PARSER_CHECK(c.has_value());
    PARSER_CHECK(c->message.size() <= max_bytes);
  }
  PARSER_CHECK(!a.pending());
  return 0;
}
