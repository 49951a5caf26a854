// Config reading shared by the parser plugins (see parser_config.h).
#include "plugins/common/parser_config.h"

#include <string>

namespace ingestd::parsers {

std::optional<MapReader> parserSettingsReader(const ConfigNode& node) {
  if (!node.isMap()) {
    return std::nullopt;
  }
  MapReader r(node);
  r.allow({"type"});
  return r;
}

DefaultZone readTimezone(MapReader& r, std::string_view key) {
  const std::optional<std::string> text = r.optionalString(key);
  if (!text) {
    return DefaultZone();
  }
  auto zone = DefaultZone::parse(*text);
  if (!zone) {
    r.fail(r.node()[key].error("expected UTC, local or an offset such as +02:00"));
    return DefaultZone();
  }
  return *zone;
}

}  // namespace ingestd::parsers
