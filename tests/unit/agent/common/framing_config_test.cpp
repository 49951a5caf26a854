// Unit tests of the framing and multiline config readers: defaults, every key, and one located
// error per bad value (a bad regex with PCRE2's message and offset, an unknown preset).
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "plugins/common/framing_config.h"

namespace ingestd::inputs {
namespace {

ConfigNode nodeOf(const std::string& yaml, const std::string& path) {
  return ConfigNode(YAML::Load(yaml), std::make_shared<const std::string>("test.yaml"), path);
}

Result<MultilineSettings> multiline(const std::string& yaml) {
  const ConfigNode section = nodeOf(yaml, "inputs[0]");
  return parseMultilineSettings(section["multiline"]);
}

std::string multilineError(const std::string& yaml) {
  auto r = multiline(yaml);
  REQUIRE_FALSE(r.isOk());
  return r.error().message;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("framing config: defaults") {
  auto r = parseFramingSettings(nodeOf("name: x\ntype: tcp\n", "inputs[0]"));
  REQUIRE(r.isOk());
  CHECK(r->mode == FramingMode::kAuto);
  CHECK(r->max_message_bytes == 64u * 1024);
  auto n = parseFramingSettings(nodeOf("name: x\n", "inputs[0]"), FramingMode::kNewline);
  REQUIRE(n.isOk());
  CHECK(n->mode == FramingMode::kNewline);
}

TEST_CASE("framing config: every value") {
  auto r = parseFramingSettings(nodeOf("framing: octet-counted\nmax_message_bytes: 8KiB\n", ""));
  REQUIRE(r.isOk());
  CHECK(r->mode == FramingMode::kOctetCounted);
  CHECK(r->max_message_bytes == 8192);
  r = parseFramingSettings(nodeOf("framing: newline\n", ""));
  REQUIRE(r.isOk());
  CHECK(r->mode == FramingMode::kNewline);
}

TEST_CASE("framing config: errors name the file, line and key") {
  auto r = parseFramingSettings(nodeOf("name: x\nframing: lines\n", "inputs[0]"));
  REQUIRE_FALSE(r.isOk());
  CHECK(contains(r.error().message, "test.yaml:2:"));
  CHECK(contains(r.error().message, "inputs[0].framing"));
  CHECK(contains(r.error().message, "auto, octet-counted, newline"));
  r = parseFramingSettings(nodeOf("max_message_bytes: 1GiB\n", "inputs[0]"));
  REQUIRE_FALSE(r.isOk());
  CHECK(contains(r.error().message, "max_message_bytes"));
  r = parseFramingSettings(nodeOf("max_message_bytes: 0\n", "inputs[0]"));
  CHECK_FALSE(r.isOk());
}

TEST_CASE("framing config: through the input's own reader") {
  const ConfigNode section = nodeOf("name: x\nframing: newline\nmultiline: java\nbogus: 1\n", "");
  MapReader r(section);
  r.allow({"name"});
  const FramingSettings f = readFramingSettings(r);
  const auto m = readMultilineSettings(r);
  CHECK(f.mode == FramingMode::kNewline);
  REQUIRE(m.has_value());
  CHECK(m->preset == "java");
  const Status st = r.finish();
  REQUIRE_FALSE(st.isOk());
  CHECK(contains(st.message(), "bogus"));  // the keys read here are known, the others not
}

TEST_CASE("multiline config: every key") {
  auto r = multiline(R"(
multiline:
  start: '^\d{4}-\d{2}-\d{2}'
  continue: '^\s'
  max_lines: 50
  max_bytes: 64KiB
  timeout: 500ms
)");
  REQUIRE(r.isOk());
  CHECK(r->start == R"(^\d{4}-\d{2}-\d{2})");
  CHECK(r->continue_pattern == R"(^\s)");
  CHECK(r->preset.empty());
  CHECK(r->max_lines == 50);
  CHECK(r->max_bytes == 65536);
  CHECK(r->timeout == std::chrono::milliseconds(500));
  CHECK(Multiline::create(*r).isOk());
}

TEST_CASE("multiline config: defaults and the preset shorthand") {
  auto r = multiline("multiline: { preset: python }\n");
  REQUIRE(r.isOk());
  CHECK(r->preset == "python");
  CHECK(r->max_lines == 500);
  CHECK(r->max_bytes == (1u << 20));
  CHECK(r->timeout == std::chrono::milliseconds(2000));
  auto s = multiline("multiline: go\n");
  REQUIRE(s.isOk());
  CHECK(s->preset == "go");
  for (const std::string name : {"java", "python", "go"}) {
    auto parsed = multiline("multiline: " + name + "\n");
    REQUIRE(parsed.isOk());
    CHECK(Multiline::create(parsed.value()).isOk());
  }
}

TEST_CASE("multiline config: a bad regex is reported with PCRE2's message and offset") {
  const std::string e = multilineError("name: x\nmultiline:\n  start: '^(abc'\n");
  CHECK(contains(e, "test.yaml:3:"));
  CHECK(contains(e, "inputs[0].multiline.start"));
  CHECK(contains(e, "missing closing parenthesis"));
  CHECK(contains(e, "offset 5"));
  const std::string c = multilineError("multiline:\n  continue: 'a{2,1}'\n");
  CHECK(contains(c, "multiline.continue"));
  CHECK(contains(c, "offset"));
}

TEST_CASE("multiline config: other errors") {
  CHECK(contains(multilineError("multiline: cobol\n"), "unknown preset \"cobol\""));
  CHECK(contains(multilineError("multiline: { preset: rust }\n"), "multiline.preset"));
  CHECK(
      contains(multilineError("multiline: { preset: java, start: '^x' }\n"), "cannot be combined"));
  CHECK(contains(multilineError("multiline: { max_lines: 10 }\n"), "needs a start pattern"));
  CHECK(contains(multilineError("multiline: { start: '^x', max_line: 10 }\n"), "max_line"));
  CHECK(contains(multilineError("multiline: { start: '^x', max_lines: 0 }\n"), "max_lines"));
  CHECK(contains(multilineError("multiline: { start: '^x', timeout: 5 }\n"), "timeout"));
  CHECK(contains(multilineError("multiline: { start: '' }\n"), "must not be empty"));
  CHECK(contains(multilineError("multiline: [java]\n"), "preset name or a mapping"));
}

}  // namespace ingestd::inputs
