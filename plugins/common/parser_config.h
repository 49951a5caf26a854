// Config reading shared by the parser plugins: the `parser:` value is either a parser's name
// (`parser: syslog`, all defaults) or a mapping with `type:` and the parser's keys.
#pragma once

#include <optional>
#include <string_view>

#include "agent/plugin/config.h"
#include "plugins/common/time_parse.h"

namespace ingestd::parsers {

// A reader of the parser's mapping with `type` already allowed, or nullopt when the node is
// the name alone (a scalar).
std::optional<MapReader> parserSettingsReader(const ConfigNode& node);

// The `timezone` key: UTC (default), local, or a fixed offset such as +02:00 / -0530. A bad
// value is recorded in `r` as an error at the key.
DefaultZone readTimezone(MapReader& r, std::string_view key = "timezone");

}  // namespace ingestd::parsers
