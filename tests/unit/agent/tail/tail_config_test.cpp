// Unit tests of the tail input's settings: defaults, limits, and one clear error per bad key.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "plugins/inputs/tail/tail_input.h"

namespace ingestd::inputs {
namespace {

Result<TailInput::Settings> parseText(const std::string& yaml) {
  ConfigNode node(YAML::Load(yaml), std::make_shared<const std::string>("test.yaml"), "inputs[0]");
  return TailInput::parse(node);
}

std::string errorOf(const std::string& yaml) {
  auto r = parseText(yaml);
  REQUIRE_FALSE(r.isOk());
  return r.error().message;
}

}  // namespace

TEST_CASE("tail config: defaults") {
  auto r = parseText("name: nginx\ntype: tail\npaths: /var/log/nginx/*.log\n");
  REQUIRE(r.isOk());
  CHECK(r->tag == "nginx");
  CHECK(r->paths == std::vector<std::string>{"/var/log/nginx/*.log"});
  CHECK_FALSE(r->read_from_head);
  CHECK(r->max_line_bytes == (1u << 20));
  CHECK(r->long_lines == LongLineMode::kTruncate);
  CHECK_FALSE(r->parser_json);
  CHECK(r->scan_interval == std::chrono::milliseconds(1000));
  CHECK(r->partial_line_timeout == std::chrono::milliseconds(5000));
  CHECK(r->state_file.empty());
}

TEST_CASE("tail config: every key") {
  auto r = parseText(R"(
name: app
type: tail
tag: app.logs
paths: [/a/*.log, /b/x.log]
exclude: ["*.gz"]
read_from: head
max_line_bytes: 64KiB
long_lines: split
parser: json
scan_interval: 250ms
read_chunk_bytes: 512KiB
partial_line_timeout: 0
state_file: /tmp/s.json
forget_after: 2h
)");
  REQUIRE(r.isOk());
  CHECK(r->tag == "app.logs");
  CHECK(r->paths.size() == 2);
  CHECK(r->exclude == std::vector<std::string>{"*.gz"});
  CHECK(r->read_from_head);
  CHECK(r->max_line_bytes == 64 * 1024);
  CHECK(r->long_lines == LongLineMode::kSplit);
  CHECK(r->parser_json);
  CHECK(r->scan_interval == std::chrono::milliseconds(250));
  CHECK(r->read_chunk_bytes == 512 * 1024);
  CHECK(r->partial_line_timeout.count() == 0);
  CHECK(r->state_file == "/tmp/s.json");
  CHECK(r->forget_after == std::chrono::hours(2));
}

TEST_CASE("tail config: errors name the key") {
  CHECK(errorOf("name: a\ntype: tail\n").find("paths") != std::string::npos);
  CHECK(errorOf("name: a\ntype: tail\npaths: relative/*.log\n").find("absolute") !=
        std::string::npos);
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nread_from: middle\n").find("read_from") !=
        std::string::npos);
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nmax_line_bytes: 100\n").find("max_line_bytes") !=
        std::string::npos);
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nmax_line_bytes: 32MiB\n")
            .find("max_line_bytes") != std::string::npos);
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nparser: logfmt\n").find("not available yet") !=
        std::string::npos);
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nmultiline: {start: '^x'}\n")
            .find("not available yet") != std::string::npos);
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\npathz: /y\n").find("pathz") != std::string::npos);
}

}  // namespace ingestd::inputs
