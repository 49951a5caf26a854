// The regex parser plugin: settings (the pattern compiled once to check it), PCRE2 compile and
// JIT, and the per-record match.
#include "plugins/parsers/regex/regex_parser.h"

#include <pcre2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

#include <fmt/format.h>

#include "agent/core/assert.h"
#include "plugins/common/parser_config.h"

namespace ingestd::parsers {

struct RegexParser::Code {
  pcre2_code* code = nullptr;
  explicit Code(pcre2_code* c) : code(c) {}
  Code(const Code&) = delete;
  Code& operator=(const Code&) = delete;
  ~Code() { pcre2_code_free(code); }
};

namespace {

// The pattern compiled, or PCRE2's message with the offset it points at.
Result<pcre2_code*> compilePattern(std::string_view pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0,
                                   &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return makeError(ErrorCode::kInvalidArgument, "invalid regular expression at offset {}: {}",
                     offset, reinterpret_cast<const char*>(message));
  }
  return code;
}

// The named groups of a compiled pattern, as (number, name), in name-table order.
std::vector<std::pair<std::uint32_t, std::string>> namedGroups(const pcre2_code* code) {
  std::uint32_t count = 0;
  std::uint32_t entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
  std::vector<std::pair<std::uint32_t, std::string>> out;
  for (std::uint32_t i = 0; i < count; ++i) {
    PCRE2_SPTR entry = table + static_cast<std::size_t>(i) * entry_size;
    // Each entry: the group number in two bytes, most significant first, then the name and NUL.
    const std::uint32_t number = (static_cast<std::uint32_t>(entry[0]) << 8) | entry[1];
    out.emplace_back(number, std::string(reinterpret_cast<const char*>(entry + 2)));
  }
  return out;
}

std::optional<FieldType> fieldTypeFromName(std::string_view name) {
  if (name == "string") {
    return FieldType::kString;
  }
  if (name == "int" || name == "integer" || name == "long") {
    return FieldType::kInt;
  }
  if (name == "float" || name == "double" || name == "real") {
    return FieldType::kFloat;
  }
  if (name == "bool" || name == "boolean") {
    return FieldType::kBool;
  }
  return std::nullopt;
}

bool equalsNoCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char c = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (c != lower[i]) {
      return false;
    }
  }
  return true;
}

// The value as a JSON number or literal in `buf`, or an empty view when it does not convert.
std::string_view convert(FieldType type, std::string_view v, char (&buf)[64]) {
  const char* first = v.data();
  const char* last = v.data() + v.size();
  switch (type) {
    case FieldType::kString: return {};
    case FieldType::kInt: {
      if (first != last && *first == '+') {
        ++first;
      }
      std::int64_t n = 0;
      auto [p, ec] = std::from_chars(first, last, n);
      if (ec != std::errc() || p != last || first == last) {
        return {};
      }
      auto r = std::to_chars(buf, buf + sizeof(buf), n);
      return {buf, static_cast<std::size_t>(r.ptr - buf)};
    }
    case FieldType::kFloat: {
      if (first != last && *first == '+') {
        ++first;
      }
      double d = 0;
      auto [p, ec] = std::from_chars(first, last, d);
      if (ec != std::errc() || p != last || first == last || !std::isfinite(d)) {
        return {};
      }
      auto r = std::to_chars(buf, buf + sizeof(buf), d);
      return {buf, static_cast<std::size_t>(r.ptr - buf)};
    }
    case FieldType::kBool:
      if (equalsNoCase(v, "true")) {
        return "true";
      }
      if (equalsNoCase(v, "false")) {
        return "false";
      }
      return {};
  }
  return {};
}

// One per thread, shared by every regex parser on it: grown to the largest pattern seen.
struct MatchBlock {
  pcre2_match_data* data = nullptr;
  std::uint32_t pairs = 0;
  MatchBlock() = default;
  MatchBlock(const MatchBlock&) = delete;
  MatchBlock& operator=(const MatchBlock&) = delete;
  ~MatchBlock() { pcre2_match_data_free(data); }
  pcre2_match_data* get(std::uint32_t need) {
    if (pairs < need) {
      pcre2_match_data_free(data);
      data = pcre2_match_data_create(need, nullptr);
      INGESTD_CHECK(data != nullptr);
      pairs = need;
    }
    return data;
  }
};

// The `types:` mapping: group name -> type, every name a group of the pattern.
Result<std::vector<std::pair<std::string, FieldType>>> readTypes(
    const ConfigNode& types, const std::vector<std::pair<std::uint32_t, std::string>>& groups) {
  if (!types.isMap()) {
    return types.error("expected a mapping of group names to int, float, bool or string");
  }
  std::vector<std::pair<std::string, FieldType>> out;
  for (const std::string& key : types.keys()) {
    const ConfigNode t = types[key];
    auto name = t.isScalar() ? t.scalar() : Result<std::string>(t.error("expected a type"));
    if (!name) {
      return name.error();
    }
    auto type = fieldTypeFromName(name.value());
    if (!type) {
      return t.error("expected int, float, bool or string");
    }
    const bool known =
        std::any_of(groups.begin(), groups.end(), [&](const auto& g) { return g.second == key; });
    if (!known) {
      return t.error(fmt::format("the pattern has no group named '{}'", key));
    }
    out.emplace_back(key, *type);
  }
  return out;
}

}  // namespace

Result<RegexSettings> RegexParser::parse(const ConfigNode& node) {
  auto reader = parserSettingsReader(node);
  if (!reader) {
    return node.error("the regex parser needs its settings: {type: regex, pattern: '...'}");
  }
  MapReader& r = *reader;
  RegexSettings s;
  s.pattern = r.requiredString("pattern");
  s.time_key = r.string("time_key");
  s.time_format = r.string("time_format", "iso8601");
  s.timezone = readTimezone(r);
  const ConfigNode types = r.child("types");
  INGESTD_RETURN_IF_ERROR(r.finish());

  auto compiled = compilePattern(s.pattern);
  if (!compiled) {
    return node["pattern"].error(compiled.error().message);
  }
  const Code code(compiled.value());
  const auto groups = namedGroups(code.code);
  const auto hasGroup = [&](std::string_view name) {
    for (const auto& [n, g] : groups) {
      if (g == name) {
        return true;
      }
    }
    return false;
  };
  if (groups.empty()) {
    return node["pattern"].error(
        "the pattern has no named group, such as (?<message>.*): it would give no fields");
  }
  if (!s.time_key.empty() && !hasGroup(s.time_key)) {
    return node["time_key"].error(
        fmt::format("the pattern has no group named '{}' ((?<{}>...))", s.time_key, s.time_key));
  }
  if (r.has("time_format") && s.time_key.empty()) {
    return node["time_format"].error("time_format needs time_key (the group holding the time)");
  }
  auto format = TimeFormat::compile(s.time_format);
  if (!format) {
    return node["time_format"].error(format.error().message);
  }
  if (types.defined()) {
    auto t = readTypes(types, groups);
    if (!t) {
      return t.error();
    }
    s.types = std::move(t).value();
  }
  return s;
}

Result<std::unique_ptr<Parser>> RegexParser::create(const Settings& settings) {
  auto p = make(settings);
  if (!p) {
    return p.error();
  }
  return std::unique_ptr<Parser>(std::move(p).value());
}

Result<std::unique_ptr<RegexParser>> RegexParser::make(const Settings& settings, NowFn now) {
  auto compiled = compilePattern(settings.pattern);
  if (!compiled) {
    return compiled.error();
  }
  auto code = std::make_unique<Code>(compiled.value());
  auto format = TimeFormat::compile(settings.time_format);
  if (!format) {
    return format.error();
  }
  std::vector<Group> groups;
  for (auto& [number, name] : namedGroups(code->code)) {
    Group g{number, name, FieldType::kString,
            !settings.time_key.empty() && name == settings.time_key, false};
    for (const auto& [key, type] : settings.types) {
      if (key == name) {
        g.type = type;
      }
    }
    groups.push_back(std::move(g));
  }
  std::sort(groups.begin(), groups.end(),
            [](const Group& a, const Group& b) { return a.number < b.number; });
  for (std::size_t i = 0; i < groups.size(); ++i) {
    for (std::size_t j = 0; j < groups.size(); ++j) {
      if (i != j && groups[i].name == groups[j].name) {
        groups[i].duplicate_name = true;
      }
    }
  }
  return std::unique_ptr<RegexParser>(new RegexParser(
      std::move(code), std::move(groups), std::move(format).value(), settings.timezone, now));
}

RegexParser::RegexParser(std::unique_ptr<Code> code, std::vector<Group> groups,
                         TimeFormat time_format, DefaultZone zone, NowFn now)
    : code_(std::move(code)),
      groups_(std::move(groups)),
      time_format_(std::move(time_format)),
      zone_(zone),
      now_(now) {
  std::uint32_t captures = 0;
  pcre2_pattern_info(code_->code, PCRE2_INFO_CAPTURECOUNT, &captures);
  pairs_ = captures + 1;
  // JIT when the library has one for this CPU; the interpreter otherwise (same results).
  jit_ = pcre2_jit_compile(code_->code, PCRE2_JIT_COMPLETE) == 0;
}

RegexParser::~RegexParser() = default;

void RegexParser::addGroup(const Group& g, std::string_view value, ParsedRecord& out) const {
  if (g.is_time) {
    if (auto t = time_format_.parse(value, zone_, now_)) {
      out.time_unix_ns = *t;
      return;
    }
    // A time that does not parse is kept as text; the record still parses.
  }
  if (g.type != FieldType::kString) {
    char buf[64];
    const std::string_view json = convert(g.type, value, buf);
    if (!json.empty()) {
      out.addJson(g.name, json);
      return;
    }
  }
  out.addString(g.name, value);
}

bool RegexParser::parse(std::string_view record, ParsedRecord& out) const {
  thread_local MatchBlock block;
  pcre2_match_data* md = block.get(pairs_);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(record.data() != nullptr ? record.data() : "");
  int rc = 0;
  if (jit_) {
    rc = pcre2_jit_match(code_->code, subject, record.size(), 0, 0, md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      rc = pcre2_match(code_->code, subject, record.size(), 0, 0, md, nullptr);
    }
  } else {
    rc = pcre2_match(code_->code, subject, record.size(), 0, 0, md, nullptr);
  }
  if (rc <= 0) {
    return false;  // no match, or a match or depth limit reached
  }
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  for (const Group& g : groups_) {
    if (g.number >= static_cast<std::uint32_t>(rc)) {
      break;  // this and later groups did not take part in the match
    }
    const PCRE2_SIZE begin = ov[2 * g.number];
    const PCRE2_SIZE end = ov[2 * g.number + 1];
    if (begin == PCRE2_UNSET || end < begin || end > record.size()) {
      continue;
    }
    if (g.duplicate_name && out.find(g.name)) {
      continue;
    }
    addGroup(g, record.substr(begin, end - begin), out);
  }
  return true;
}

}  // namespace ingestd::parsers
