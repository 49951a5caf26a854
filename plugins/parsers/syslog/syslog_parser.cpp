// The syslog parser plugin: settings, and the choice between the two grammars per record.
#include "plugins/parsers/syslog/syslog_parser.h"

#include "plugins/common/parser_config.h"

namespace ingestd::parsers {
namespace {

std::string_view trimEnd(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '\0')) {
    s.remove_suffix(1);
  }
  return s;
}

// "<PRI>" followed by a version number and a space: RFC 5424's header.
bool looksLike5424(std::string_view s) {
  const std::size_t close = s.find('>');
  if (s.empty() || s[0] != '<' || close == std::string_view::npos || close > 4) {
    return false;
  }
  std::size_t p = close + 1;
  const std::size_t start = p;
  while (p < s.size() && p - start < 3 && s[p] >= '0' && s[p] <= '9') {
    ++p;
  }
  return p > start && s[start] != '0' && p < s.size() && s[p] == ' ';
}

}  // namespace

Result<SyslogSettings> SyslogParser::parse(const ConfigNode& node) {
  SyslogSettings s;
  auto reader = parserSettingsReader(node);
  if (!reader) {
    return s;
  }
  MapReader& r = *reader;
  const std::string format = r.oneOf("format", "auto", {"auto", "rfc3164", "rfc5424"});
  s.format = format == "rfc3164"   ? SyslogFormat::kRfc3164
             : format == "rfc5424" ? SyslogFormat::kRfc5424
                                   : SyslogFormat::kAuto;
  s.timezone = readTimezone(r);
  INGESTD_RETURN_IF_ERROR(r.finish());
  return s;
}

Result<std::unique_ptr<Parser>> SyslogParser::create(const Settings& settings) {
  return std::unique_ptr<Parser>(std::make_unique<SyslogParser>(settings));
}

SyslogParser::SyslogParser(const Settings& settings, NowFn now) : settings_(settings), now_(now) {}

bool SyslogParser::parse(std::string_view record, ParsedRecord& out) const {
  thread_local std::string sd_json;
  thread_local std::string value_scratch;
  record = trimEnd(record);
  switch (settings_.format) {
    case SyslogFormat::kRfc5424: return parseRfc5424(record, out, sd_json, value_scratch);
    case SyslogFormat::kRfc3164: return parseRfc3164(record, settings_.timezone, now_, out);
    case SyslogFormat::kAuto: break;
  }
  // A record that announces RFC 5424 but breaks its grammar does not parse: reading it as RFC
  // 3164 would turn the whole header into the message and hide the error.
  if (looksLike5424(record)) {
    return parseRfc5424(record, out, sd_json, value_scratch);
  }
  return parseRfc3164(record, settings_.timezone, now_, out);
}

}  // namespace ingestd::parsers
