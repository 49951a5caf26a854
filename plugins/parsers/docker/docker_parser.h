// The docker parser: lines of docker's json-file log driver,
//   {"log":"message text\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}
// into message (the log string decoded, its trailing newline removed), stream, and the time
// into ParsedRecord::time_unix_ns. Keys may come in any order; other keys (attrs, ...) are
// skipped. parse() is const and thread-safe: its scratch buffer is thread_local.
#pragma once

#include <memory>
#include <string_view>

#include "agent/core/status.h"
#include "agent/plugin/config.h"
#include "agent/plugin/parser.h"

namespace ingestd::parsers {

struct DockerSettings {};

class DockerParser final : public Parser {
 public:
  static constexpr std::string_view kName = "docker";
  using Settings = DockerSettings;
  // `parser: docker` (the mapping form takes no keys but `type`).
  static Result<Settings> parse(const ConfigNode& node);
  static Result<std::unique_ptr<Parser>> create(const Settings& settings);

  // Parser: false when the line is not one JSON object with a string "log" member. A "time"
  // that is not RFC 3339 is kept as a "time" field.
  bool parse(std::string_view record, ParsedRecord& out) const override;
  std::string_view name() const override { return kName; }
};

}  // namespace ingestd::parsers
