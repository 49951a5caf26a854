// libFuzzer harness: the syslog parser. The first byte chooses the format (auto, rfc3164,
// rfc5424) and the zone of dates without one; the rest is one record. Fields must be
// well-formed (structured_data valid JSON) whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "plugins/parsers/syslog/syslog_parser.h"
#include "tests/fuzz/parser_fuzz_util.h"

namespace {

std::int64_t fixedNow() { return 1710072000LL * 1'000'000'000; }  // 2024-03-10T12:00:00Z

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ingestd::parsers;
  if (size < 1) {
    return 0;
  }
  SyslogSettings s;
  s.format = static_cast<SyslogFormat>(data[0] % 3);
  s.timezone = (data[0] & 0x10) != 0 ? DefaultZone::fixed(-19800) : DefaultZone();
  const SyslogParser p(s, &fixedNow);
  ingestd::fuzz::parseAndCheck(p,
                               std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
