// Config readers for the framing and multiline settings that tail and socket inputs share:
// `framing:`, `max_message_bytes:` and `multiline:` (docs/configuration.md "Framing" and
// "Multiline"). Pure: no I/O. Errors name file:line:col and the key (ConfigNode::error).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "agent/plugin/config.h"
#include "plugins/common/multiline.h"
#include "plugins/common/stream_framer.h"

namespace ingestd::inputs {

// The keys readFramingSettings() reads in an input section.
inline const std::initializer_list<std::string_view> kFramingKeys = {"framing",
                                                                     "max_message_bytes"};

// Reads `framing` (auto | octet-counted | newline, default `default_mode`) and
// `max_message_bytes` (a size, default 64KiB, 1B..256MiB) through the input's own reader, which
// marks them known and keeps the first error.
FramingSettings readFramingSettings(MapReader& reader,
                                    FramingMode default_mode = FramingMode::kAuto);
// The same from an input section node, checking only these two keys: the caller's own reader
// must allow(kFramingKeys).
Result<FramingSettings> parseFramingSettings(const ConfigNode& section,
                                             FramingMode default_mode = FramingMode::kAuto);

// `multiline:` itself: a mapping { start, continue, preset, max_lines, max_bytes, timeout }, or
// just a preset name (`multiline: java`). Unknown keys, a bad regex (PCRE2's message and the
// offset in the pattern), an unknown preset, a preset with patterns, or neither are errors.
Result<MultilineSettings> parseMultilineSettings(const ConfigNode& node);
// Reads the optional `multiline` key of an input section through the input's reader (nullopt
// when absent; errors go to the reader).
std::optional<MultilineSettings> readMultilineSettings(MapReader& reader);
// For `ingestd check`: "preset java" or "start '^\\d'" etc., then the limits and the timeout.
std::string describeMultiline(const MultilineSettings& settings);

}  // namespace ingestd::inputs
