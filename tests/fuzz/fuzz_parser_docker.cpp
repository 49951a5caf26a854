// libFuzzer harness: the docker parser, checked against nlohmann::json: when the input is one
// valid JSON object whose "log" is a string, the parser accepts it (unless it nests deeper
// than its limit) and its message is that string with one trailing "\n" (and a "\r" before it)
// removed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "plugins/parsers/docker/docker_parser.h"
#include "tests/fuzz/parser_fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ingestd::parsers::DockerParser p;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ingestd::ParsedRecord r;
  const bool ok = p.parse(text, r);
  if (ok) {
    ingestd::fuzz::checkRecord(r);
    PARSER_CHECK(r.find("message").has_value());
  }
  const auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("log") || !j["log"].is_string()) {
    return 0;
  }
  std::size_t brackets = 0;
  for (char c : text) {
    brackets += (c == '[' || c == '{') ? 1 : 0;
  }
  if (!ok) {
    PARSER_CHECK(brackets > 64);
    return 0;
  }
  std::string expected = j["log"].get<std::string>();
  if (!expected.empty() && expected.back() == '\n') {
    expected.pop_back();
    if (!expected.empty() && expected.back() == '\r') {
      expected.pop_back();
    }
  }
  PARSER_CHECK(r.value(*r.find("message")) == expected);
  return 0;
}
