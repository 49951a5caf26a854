// Config readers for framing and multiline settings (framing_config.h).
#include "plugins/common/framing_config.h"

#include <string>

#include "plugins/common/line_pattern.h"

namespace ingestd::inputs {

namespace {

constexpr std::uint64_t kMaxMessageBytesLimit = 256u << 20;

FramingMode modeFromName(std::string_view name) {
  if (name == "newline") {
    return FramingMode::kNewline;
  }
  if (name == "octet-counted") {
    return FramingMode::kOctetCounted;
  }
  return FramingMode::kAuto;
}

// A pattern key: empty when absent; a bad regex is an error at the key.
std::string readPattern(MapReader& r, std::string_view key) {
  std::string p = r.string(key, "");
  if (!r.status().isOk() || !r.has(key)) {
    return p;
  }
  if (p.empty()) {
    r.fail(r.node()[key].error("must not be empty (leave the key out instead)"));
    return p;
  }
  auto compiled = LinePattern::compile(p);
  if (!compiled) {
    r.fail(r.node()[key].error(
        fmt::format("is not a valid regular expression: {}", compiled.error().message)));
  }
  return p;
}

}  // namespace

FramingSettings readFramingSettings(MapReader& r, FramingMode default_mode) {
  FramingSettings s;
  // framing: how a stream is cut into messages (stream sockets).
  s.mode = modeFromName(r.oneOf("framing", std::string(framingModeName(default_mode)),
                                {"auto", "octet-counted", "newline"}));
  // max_message_bytes: longer messages are truncated and counted.
  s.max_message_bytes =
      static_cast<std::size_t>(r.size("max_message_bytes", 64u << 10, 1, kMaxMessageBytesLimit));
  return s;
}

Result<FramingSettings> parseFramingSettings(const ConfigNode& section, FramingMode default_mode) {
  MapReader r(section);
  FramingSettings s = readFramingSettings(r, default_mode);
  INGESTD_RETURN_IF_ERROR(r.status());
  return s;
}

Result<MultilineSettings> parseMultilineSettings(const ConfigNode& node) {
  MultilineSettings s;
  if (node.isScalar()) {
    auto name = node.scalar();
    if (!name) {
      return name.error();
    }
    s.preset = std::move(name).value();
  } else if (node.isMap()) {
    MapReader r(node);
    // start / continue: PCRE2 patterns; preset: a built-in rule set instead.
    s.start = readPattern(r, "start");
    s.continue_pattern = readPattern(r, "continue");
    s.preset = r.string("preset", "");
    // max_lines / max_bytes: a record that reaches them is emitted; later lines start a new one.
    s.max_lines = static_cast<std::uint32_t>(r.integer("max_lines", s.max_lines, 1, 1000000));
    s.max_bytes = static_cast<std::size_t>(r.size("max_bytes", s.max_bytes, 1, 256u << 20));
    // timeout: a record that got no line for this long is emitted (0: never).
    s.timeout =
        r.duration("timeout", s.timeout, std::chrono::milliseconds(0), std::chrono::hours(1));
    INGESTD_RETURN_IF_ERROR(r.finish());
    if (!s.preset.empty() && (!s.start.empty() || !s.continue_pattern.empty())) {
      return node["preset"].error("a preset cannot be combined with start or continue");
    }
    if (s.preset.empty() && s.start.empty() && s.continue_pattern.empty()) {
      return node.error("needs a start pattern, a continue pattern or a preset (java, python, go)");
    }
  } else {
    return node.error("must be a preset name or a mapping with start, continue or preset");
  }
  if (!s.preset.empty()) {
    bool known = false;
    for (std::string_view p : multilinePresets()) {
      known = known || p == s.preset;
    }
    if (!known) {
      const ConfigNode at = node.isScalar() ? node : node["preset"];
      return at.error(fmt::format("unknown preset \"{}\" (known: java, python, go)", s.preset));
    }
  }
  return s;
}

std::optional<MultilineSettings> readMultilineSettings(MapReader& r) {
  if (!r.has("multiline")) {
    return std::nullopt;
  }
  const ConfigNode node = r.child("multiline");
  auto s = parseMultilineSettings(node);
  if (!s) {
    r.fail(s.error());
    return std::nullopt;
  }
  return std::move(s).value();
}

std::string describeMultiline(const MultilineSettings& s) {
  std::string rules;
  if (!s.preset.empty()) {
    rules = "preset " + s.preset;
  } else {
    if (!s.start.empty()) {
      rules = fmt::format("start '{}'", s.start);
    }
    if (!s.continue_pattern.empty()) {
      rules += fmt::format("{}continue '{}'", rules.empty() ? "" : ", ", s.continue_pattern);
    }
  }
  return fmt::format("{}; at most {} lines, {}; timeout {}", rules, s.max_lines,
                     formatSize(s.max_bytes),
                     s.timeout.count() == 0 ? std::string("none") : formatDuration(s.timeout));
}

}  // namespace ingestd::inputs
