// The regex parser: a PCRE2 pattern whose named groups become the record's fields, with an
// optional time group (time_key + time_format) that sets ParsedRecord::time_unix_ns and
// optional types that turn groups into JSON numbers or booleans. The pattern is compiled (and
// JIT-compiled when PCRE2 has a JIT for this machine) once in create(); parse() is const and
// thread-safe, using a per-thread match data block.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/status.h"
#include "agent/plugin/config.h"
#include "agent/plugin/parser.h"
#include "plugins/common/time_parse.h"

namespace ingestd::parsers {

enum class FieldType : std::uint8_t {
  kString,
  kInt,    // a decimal integer that fits int64 -> JSON number (leading '+' / zeros dropped)
  kFloat,  // a finite decimal number -> JSON number
  kBool,   // true / false in any case -> JSON true / false
};

struct RegexSettings {
  std::string pattern;                  // PCRE2 syntax, matched against the whole record
  std::string time_key;                 // a named group holding the record's time; "" = none
  std::string time_format = "iso8601";  // TimeFormat syntax (plugins/common/time_parse.h)
  DefaultZone timezone;                 // for times without an offset
  std::vector<std::pair<std::string, FieldType>> types;  // group name -> type
};

class RegexParser final : public Parser {
 public:
  static constexpr std::string_view kName = "regex";
  using Settings = RegexSettings;
  // `parser: {type: regex, pattern: '...', time_key: time, time_format: '...', timezone: UTC,
  // types: {status: int}}`. Compiles the pattern to check it: a bad pattern is an error at the
  // pattern's location with PCRE2's message and the offset in the pattern.
  static Result<Settings> parse(const ConfigNode& node);
  static Result<std::unique_ptr<Parser>> create(const Settings& settings);
  // create() as the concrete type; `now` is the clock for time formats without a year.
  static Result<std::unique_ptr<RegexParser>> make(const Settings& settings,
                                                   NowFn now = &systemNowNs);

  RegexParser(const RegexParser&) = delete;
  RegexParser& operator=(const RegexParser&) = delete;
  ~RegexParser() override;

  // Parser
  bool parse(std::string_view record, ParsedRecord& out) const override;
  std::string_view name() const override { return kName; }

  bool jitForTest() const { return jit_; }

 private:
  struct Group {
    std::uint32_t number;
    std::string name;
    FieldType type;
    bool is_time;
    bool duplicate_name;  // (?J): several groups share the name; the first that matched wins
  };
  struct Code;
  RegexParser(std::unique_ptr<Code> code, std::vector<Group> groups, TimeFormat time_format,
              DefaultZone zone, NowFn now);
  void addGroup(const Group& g, std::string_view value, ParsedRecord& out) const;

  std::unique_ptr<Code> code_;
  std::vector<Group> groups_;  // by group number
  std::uint32_t pairs_ = 0;    // capture groups + 1
  bool jit_ = false;
  TimeFormat time_format_;
  DefaultZone zone_;
  NowFn now_;
};

}  // namespace ingestd::parsers
