// libFuzzer harness: the regex parser and the time formats it uses. The first byte chooses a
// case: one of a few fixed patterns (nginx with time and types, optional and duplicate groups)
// matched against the rest, or (high bit set) a time format "SPEC\nTEXT" compiled from the
// input and parsed, together with the RFC 3339 and BSD date scanners.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/common/time_parse.h"
#include "plugins/parsers/regex/regex_parser.h"
#include "tests/fuzz/parser_fuzz_util.h"

namespace {

using namespace ingestd::parsers;

std::int64_t fixedNow() { return 1710072000LL * 1'000'000'000; }

std::vector<std::unique_ptr<RegexParser>> makeParsers() {
  std::vector<RegexSettings> all(3);
  all[0].pattern =
      R"re(^(?<remote>\S+) \S+ (?<user>\S+) \[(?<time>[^\]]+)\] "(?<method>[A-Z]+) )re"
      R"re((?<path>[^ "]*) (?<protocol>[^"]*)" (?<status>\d{3}) (?<bytes>\d+|-)(?: "(?<ref>[^"]*)" )re"
      R"re("(?<agent>[^"]*)")?$)re";
  all[0].time_key = "time";
  all[0].time_format = "%d/%b/%Y:%H:%M:%S %z";
  all[0].types = {{"status", FieldType::kInt}, {"bytes", FieldType::kInt}};
  all[1].pattern =
      R"re((?J)^(?:(?<a>\w+)=(?<n>\S*)|(?<a>[^ ]*) (?<f>\S+) (?<b>\S+))(?<rest>.*)$)re";
  all[1].types = {{"n", FieldType::kFloat}, {"f", FieldType::kFloat}, {"b", FieldType::kBool}};
  all[2].pattern = R"re(^(?<ts>\S+) (?<level>\w+)? ?(?<message>.*)$)re";
  all[2].time_key = "ts";
  all[2].time_format = "epoch";
  std::vector<std::unique_ptr<RegexParser>> out;
  for (const auto& s : all) {
    auto p = RegexParser::make(s, &fixedNow);
    if (!p) {
      std::fprintf(stderr, "%s\n", p.error().message.c_str());
      std::abort();
    }
    out.push_back(std::move(p).value());
  }
  return out;
}

void fuzzTime(std::string_view input) {
  const std::size_t nl = input.find('\n');
  const std::string spec(input.substr(0, nl));
  const std::string text(nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1));
  if (auto f = TimeFormat::compile(spec)) {
    (void)f.value().parse(text, DefaultZone(), &fixedNow);
    (void)f.value().parse(text, DefaultZone::fixed(3600), &fixedNow);
  }
  if (auto t = scanIso8601(text)) {
    PARSER_CHECK(t->length <= text.size());
  }
  if (auto b = scanBsdTime(text)) {
    PARSER_CHECK(b->length <= text.size());
    (void)bsdWallNs(*b, fixedNow());
  }
  (void)parseRfc3339(text);
  (void)DefaultZone::parse(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto parsers = makeParsers();
  if (size < 1) {
    return 0;
  }
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 0x80) != 0) {
    fuzzTime(rest);
    return 0;
  }
  ingestd::fuzz::parseAndCheck(*parsers[data[0] % parsers.size()], rest);
  return 0;
}
