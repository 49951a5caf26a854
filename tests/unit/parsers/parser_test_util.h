// Helpers for the parser unit tests: config nodes from YAML text, parsers made through the
// registry (as an input would), field look-ups, and a check that a parser survives every prefix
// and corruption of a line.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "agent/pipeline/json_validate.h"
#include "agent/plugin/config.h"
#include "agent/plugin/parser.h"
#include "agent/plugin/plugin.h"

namespace ingestd::testing {

inline ConfigNode parserNode(const std::string& yaml) {
  return ConfigNode(YAML::Load(yaml), std::make_shared<const std::string>("t.yaml"),
                    "inputs[0].parser");
}

// The parser named by `yaml` (a name or a mapping with type:), made by the builtin registry.
inline Result<std::unique_ptr<Parser>> makeParser(const std::string& yaml) {
  PluginRegistry registry;
  registerBuiltins(registry);
  const ConfigNode node = parserNode(yaml);
  std::string type =
      node.isMap() ? node["type"].yaml().as<std::string>() : node.yaml().as<std::string>();
  const auto* factory = registry.findParser(type);
  if (factory == nullptr) {
    return Error{ErrorCode::kNotFound, "no parser " + type};
  }
  return factory->make(node);
}

inline std::optional<std::string> field(const ParsedRecord& r, std::string_view key) {
  auto i = r.find(key);
  if (!i) {
    return std::nullopt;
  }
  return std::string(r.value(*i));
}

inline bool isJson(const ParsedRecord& r, std::string_view key) {
  auto i = r.find(key);
  return i && r.kind(*i) == ParsedRecord::Kind::kJson;
}

// Every field is unique and every JSON field is valid JSON.
inline void checkWellFormed(const ParsedRecord& r) {
  for (std::size_t i = 0; i < r.size(); ++i) {
    CHECK_MESSAGE(r.find(r.key(i)) == i, "duplicate key ", r.key(i));
    if (r.kind(i) == ParsedRecord::Kind::kJson) {
      CHECK_MESSAGE(isValidJsonValue(r.value(i)), "invalid JSON in ", r.key(i), ": ", r.value(i));
    }
  }
}

// Parses every prefix of `line`, and the line with each byte replaced by a few hostile ones:
// never crashes (ASan builds catch reads out of bounds), always leaves well-formed fields.
inline void survivesDamage(const Parser& p, std::string_view line) {
  ParsedRecord r;
  for (std::size_t n = 0; n <= line.size(); ++n) {
    // A copy of exactly n bytes, so that a read past the end is a heap overflow under ASan.
    const std::string prefix(line.substr(0, n));
    r.clear();
    if (p.parse(prefix, r)) {
      checkWellFormed(r);
    }
  }
  static constexpr char kHostile[] = {'\0', '"', '\\', ']', '[', ' ', '=', '\xff', '<', ':'};
  std::string copy(line);
  for (std::size_t i = 0; i < copy.size(); ++i) {
    const char saved = copy[i];
    for (char h : kHostile) {
      copy[i] = h;
      r.clear();
      if (p.parse(copy, r)) {
        checkWellFormed(r);
      }
    }
    copy[i] = saved;
  }
}

}  // namespace ingestd::testing
