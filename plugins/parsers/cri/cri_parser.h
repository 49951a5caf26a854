// The cri parser: Kubernetes container runtime (CRI) log lines,
//   2016-10-06T00:17:09.669794202Z stdout F message text
// into stream, logtag and message, the time into ParsedRecord::time_unix_ns. A line is at most
// one chunk of what the container wrote: the runtime splits long lines into partial chunks
// (tag P) ended by a full one (tag F). Joining them needs state across lines, which a const
// Parser cannot keep, so CriReassembler (plugins/common/cri_lines.h) does it for the input that
// reads the file: the tail input runs a file's lines through one before parsing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/status.h"
#include "agent/plugin/config.h"
#include "agent/plugin/parser.h"
#include "plugins/common/cri_lines.h"

namespace ingestd::parsers {

struct CriSettings {};

class CriParser final : public Parser {
 public:
  static constexpr std::string_view kName = "cri";
  using Settings = CriSettings;
  // `parser: cri` (the mapping form takes no keys but `type`).
  static Result<Settings> parse(const ConfigNode& node);
  static Result<std::unique_ptr<Parser>> create(const Settings& settings);

  // Parser: false when the line is not CRI or its time is not RFC 3339 with an offset.
  bool parse(std::string_view record, ParsedRecord& out) const override;
  std::string_view name() const override { return kName; }
};

}  // namespace ingestd::parsers
