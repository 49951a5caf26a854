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
  CHECK(r->scan_interval == std::chrono::milliseconds(1000));
  CHECK(r->partial_line_timeout == std::chrono::milliseconds(5000));
  CHECK(r->state_file.empty());
}

TEST_CASE("tail config: multiline, and check describes it") {
  auto r = parseText(
      "name: app\ntype: tail\npaths: /a/*.log\nmultiline: {start: '^\\d', max_lines: 50, "
      "timeout: 1s}\n");
  REQUIRE(r.isOk());
  REQUIRE(r->multiline.has_value());
  CHECK(r->multiline->start == "^\\d");
  CHECK(r->multiline->max_lines == 50);
  CHECK(r->multiline->timeout == std::chrono::seconds(1));
  CHECK(TailInput::describe(*r).find("multiline:   start '^\\d'; at most 50 lines, 1MiB; "
                                     "timeout 1s") != std::string::npos);
  auto p = parseText("name: app\ntype: tail\npaths: /a/*.log\nmultiline: python\n");
  REQUIRE(p.isOk());
  CHECK(p->multiline->preset == "python");
  CHECK_FALSE(parseText("name: app\ntype: tail\npaths: /a/*.log\n")->multiline.has_value());
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
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nmax_line_bytes: 32MiB\n").find("max_line_bytes") !=
        std::string::npos);
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nlong_lines: split\nmultiline: java\n") ==
        "test.yaml:4:13: 'inputs[0].long_lines': long_lines: split cannot be combined with "
        "multiline (a split line would become several lines of one record); use truncate, or "
        "raise max_line_bytes");
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nmultiline: {start: '^(x'}\n")
            .find("'inputs[0].multiline.start': is not a valid regular expression") !=
        std::string::npos);
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nparser: cri\nmultiline: java\n") ==
        "test.yaml:5:12: 'inputs[0].multiline': multiline cannot be combined with parser: cri "
        "(which joins the runtime's partial lines itself)");
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nparser: {type: cri}\nmultiline: java\n")
            .find("parser: cri") != std::string::npos);
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nmultiline: cobol\n").find("unknown preset") !=
        std::string::npos);
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\npathz: /y\n").find("pathz") != std::string::npos);
}

TEST_CASE("tail config: each path must be absolute with a file name part, errors at the element") {
  CHECK(errorOf("name: a\ntype: tail\npaths: [/ok/*.log, logs/*.log]\n") ==
        "test.yaml:3:20: 'inputs[0].paths[1]': path \"logs/*.log\" must be absolute (e.g. "
        "/var/log/app/*.log)");
  CHECK(errorOf("name: a\ntype: tail\npaths: \"*.log\"\n") ==
        "test.yaml:3:8: 'inputs[0].paths': path \"*.log\" must be absolute (e.g. "
        "/var/log/app/*.log)");
  CHECK(errorOf("name: a\ntype: tail\npaths: [/var/log/app/]\n") ==
        "test.yaml:3:9: 'inputs[0].paths[0]': path \"/var/log/app/\" names a directory, not files: "
        "add a file name or glob (e.g. /var/log/app/*.log)");
  CHECK(errorOf("name: a\ntype: tail\npaths: [\"\"]\n") ==
        "test.yaml:3:9: 'inputs[0].paths[0]': must not be empty");
}

TEST_CASE("tail config: a NUL byte in a path, exclude or state_file is an error naming the key") {
  CHECK(errorOf("name: a\ntype: tail\npaths: [/ok, \"/var/log/a\\0b.log\"]\n") ==
        "test.yaml:3:14: 'inputs[0].paths[1]': contains a NUL byte (\\0); a path cannot hold one");
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nexclude: \"*.gz\\0\"\n") ==
        "test.yaml:4:10: 'inputs[0].exclude': contains a NUL byte (\\0); a path cannot hold one");
  CHECK(errorOf("name: a\ntype: tail\npaths: /x\nstate_file: \"/tmp/s\\0\"\n") ==
        "test.yaml:4:13: 'inputs[0].state_file': contains a NUL byte (\\0); a path cannot hold "
        "one");
}

TEST_CASE("tail config: fixedDirOf is the part of a glob that must exist") {
  CHECK(fixedDirOf("/var/log/nginx/access.log*") == "/var/log/nginx");
  CHECK(fixedDirOf("/var/log/*/app.log") == "/var/log");
  CHECK(fixedDirOf("/var/log/app-{a,b}/x.log") == "/var/log");
  CHECK(fixedDirOf("/var/lo?/x.log") == "/var");
  CHECK(fixedDirOf("/*/x.log") == "/");
  CHECK(fixedDirOf("/app.log") == "/");
  CHECK(fixedDirOf("//var//log/x") == "/var/log");
}

TEST_CASE("tail config: validate warns about a glob whose directory does not exist") {
  auto s = parseText(
      "name: a\ntype: tail\npaths: [/tmp/*.log, /nonexistent-ingestd-dir/x/*.log, "
      "/dev/null/x.log]\n");
  REQUIRE(s.isOk());
  ConfigNode node(YAML::Load("name: a"), std::make_shared<const std::string>("test.yaml"),
                  "inputs[0]");
  ValidationReport report;
  REQUIRE(TailInput::validate(node, s.value(), report).isOk());  // warnings, not errors
  REQUIRE(report.warnings.size() == 2);
  CHECK(report.warnings[0] ==
        "the directory \"/nonexistent-ingestd-dir/x\" does not exist (yet), so path "
        "\"/nonexistent-ingestd-dir/x/*.log\" matches nothing; its files are read once it "
        "appears.");
  CHECK(report.warnings[1] ==
        "\"/dev/null\" is not a directory, so path \"/dev/null/x.log\" matches nothing.");
}

}  // namespace ingestd::inputs
