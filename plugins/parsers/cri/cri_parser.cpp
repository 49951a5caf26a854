// The cri parser plugin (the line helpers are in plugins/common/cri_lines.cpp).
#include "plugins/parsers/cri/cri_parser.h"

#include <algorithm>

#include "plugins/common/parser_config.h"
#include "plugins/common/time_parse.h"

namespace ingestd::parsers {

Result<CriSettings> CriParser::parse(const ConfigNode& node) {
  if (auto r = parserSettingsReader(node)) {
    INGESTD_RETURN_IF_ERROR(r->finish());
  }
  return CriSettings{};
}

Result<std::unique_ptr<Parser>> CriParser::create(const Settings&) {
  return std::unique_ptr<Parser>(std::make_unique<CriParser>());
}

bool CriParser::parse(std::string_view record, ParsedRecord& out) const {
  auto c = splitCriLine(record);
  if (!c) {
    return false;
  }
  auto t = parseRfc3339(c->time);
  if (!t) {
    return false;
  }
  out.addString("stream", c->stream);
  out.addString("logtag", c->logtag);
  out.addString("message", c->message);
  out.time_unix_ns = t;
  return true;
}

}  // namespace ingestd::parsers
