// The logfmt parser: `key=value key2="quoted \"value\"" flag` into fields. Bare keys are JSON
// true, duplicate keys keep the last value, `msg` is renamed `message`. A record with no
// key=value pair, a quote where a key should be, or an unterminated quoted value does not parse.
// parse() is const and thread-safe: its scratch buffers are thread_local.
#pragma once

#include <memory>
#include <string_view>

#include "agent/core/status.h"
#include "agent/plugin/config.h"
#include "agent/plugin/parser.h"

namespace ingestd::parsers {

struct LogfmtSettings {};

class LogfmtParser final : public Parser {
 public:
  static constexpr std::string_view kName = "logfmt";
  using Settings = LogfmtSettings;
  // `parser: logfmt` (the mapping form takes no keys but `type`).
  static Result<Settings> parse(const ConfigNode& node);
  static Result<std::unique_ptr<Parser>> create(const Settings& settings);

  // Parser
  bool parse(std::string_view record, ParsedRecord& out) const override;
  std::string_view name() const override { return kName; }
};

}  // namespace ingestd::parsers
