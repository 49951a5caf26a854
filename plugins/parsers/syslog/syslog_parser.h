// The syslog parser: RFC 5424 and RFC 3164 (with its common variants) into the syslog record
// fields of DESIGN.md section 10. The message's own time goes to ParsedRecord::time_unix_ns.
// parse() is const and thread-safe: its scratch buffers are thread_local.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/core/status.h"
#include "agent/plugin/config.h"
#include "agent/plugin/parser.h"
#include "plugins/common/time_parse.h"

namespace ingestd::parsers {

enum class SyslogFormat : std::uint8_t {
  kAuto,     // RFC 5424 when the PRI is followed by a version number and a space, else RFC 3164
  kRfc3164,  // BSD syslog and its variants only
  kRfc5424,  // RFC 5424 only: anything else does not parse
};

struct SyslogSettings {
  SyslogFormat format = SyslogFormat::kAuto;
  // The zone of RFC 3164 dates (they carry none); RFC 5424 and ISO 8601 dates with an offset
  // ignore it. `timezone:` UTC (default), local, or an offset such as +02:00.
  DefaultZone timezone;
};

// "kern", "user", ..., "local7" for facility 0-23; "emerg" ... "debug" for severity 0-7.
std::string_view syslogFacilityName(int facility);
std::string_view syslogSeverityName(int severity);

// The two grammars as pure functions (syslog_formats.cpp). `record` has no trailing newline.
// RFC 5424: false when the header does not follow the grammar (the caller keeps the record
// whole). `sd_json` is scratch for the structured-data JSON.
bool parseRfc5424(std::string_view record, ParsedRecord& out, std::string& sd_json,
                  std::string& value_scratch);
// RFC 3164: false only when the record has neither a PRI nor a timestamp.
bool parseRfc3164(std::string_view record, const DefaultZone& zone, NowFn now, ParsedRecord& out);

class SyslogParser final : public Parser {
 public:
  static constexpr std::string_view kName = "syslog";
  using Settings = SyslogSettings;
  // `parser: syslog` or `parser: {type: syslog, format: auto, timezone: UTC}`.
  static Result<Settings> parse(const ConfigNode& node);
  static Result<std::unique_ptr<Parser>> create(const Settings& settings);

  explicit SyslogParser(const Settings& settings, NowFn now = &systemNowNs);

  // Parser
  bool parse(std::string_view record, ParsedRecord& out) const override;
  std::string_view name() const override { return kName; }

 private:
  Settings settings_;
  NowFn now_;
};

}  // namespace ingestd::parsers
