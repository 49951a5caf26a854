// The container log parsers: cri (Kubernetes CRI lines, the partial flag and the reassembler)
// and docker (json-file lines).
#include <doctest/doctest.h>

#include <string>

#include "plugins/parsers/cri/cri_parser.h"
#include "plugins/parsers/docker/docker_parser.h"
#include "tests/unit/parsers/parser_test_util.h"

namespace ingestd::parsers {
namespace {

using testing::field;

struct Parsed {
  bool ok = false;
  ParsedRecord rec;
  std::optional<std::string> operator[](std::string_view key) const { return field(rec, key); }
};

Parsed parseWith(const Parser& p, std::string_view line) {
  Parsed r;
  r.ok = p.parse(line, r.rec);
  if (r.ok) {
    testing::checkWellFormed(r.rec);
  }
  return r;
}

Parsed cri(std::string_view line) { return parseWith(CriParser(), line); }
Parsed docker(std::string_view line) { return parseWith(DockerParser(), line); }

TEST_CASE("parsers/cri: Kubernetes CRI lines") {
  auto r = cri("2016-10-06T00:17:09.669794202Z stdout F message text");
  REQUIRE(r.ok);
  CHECK(r["stream"] == "stdout");
  CHECK(r["logtag"] == "F");
  CHECK(r["message"] == "message text");
  CHECK(r.rec.time_unix_ns == 1475713029669794202);

  r = cri("2024-03-10T12:00:00.123456789+00:00 stderr F {\"level\":\"error\",\"msg\":\"boom\"}");
  REQUIRE(r.ok);
  CHECK(r["stream"] == "stderr");
  CHECK(r["message"] == "{\"level\":\"error\",\"msg\":\"boom\"}");

  r = cri("2016-10-06T00:17:09.669794202Z stdout P first part of a long line ");
  REQUIRE(r.ok);
  CHECK(r["logtag"] == "P");
  CHECK(r["message"] == "first part of a long line ");

  // An empty line the container wrote, with or without the space after the tag; indentation kept.
  r = cri("2016-10-06T00:17:09.669794202Z stdout F ");
  REQUIRE(r.ok);
  CHECK(r["message"] == "");
  r = cri("2016-10-06T00:17:09.669794202Z stdout F");
  REQUIRE(r.ok);
  CHECK(r["message"] == "");
  r = cri("2016-10-06T00:17:09.669794202Z stdout F    indented");
  REQUIRE(r.ok);
  CHECK(r["message"] == "   indented");

  CHECK_FALSE(cri("").ok);
  CHECK_FALSE(cri("hello world").ok);
  CHECK_FALSE(cri("2016-10-06T00:17:09.669794202Z stdin F x").ok);  // not a stream
  CHECK_FALSE(cri("2016-10-06T00:17:09.669794202Z stdout").ok);     // no tag
  CHECK_FALSE(cri("2016-10-06T00:17:09.669794202Z stdout  x").ok);  // empty tag
  CHECK_FALSE(cri("2016-10-06 00:17:09Z stdout F x").ok);           // space in the time
  CHECK_FALSE(cri("2016-10-06T00:17:09.669794202 stdout F x").ok);  // no zone
  CHECK_FALSE(cri(" 2016-10-06T00:17:09.669794202Z stdout F x").ok);
}

TEST_CASE("parsers/cri: the partial flag") {
  CHECK(isCriPartial("2016-10-06T00:17:09.669794202Z stdout P part"));
  CHECK(isCriPartial("2016-10-06T00:17:09.669794202Z stderr P:extra part"));
  CHECK_FALSE(isCriPartial("2016-10-06T00:17:09.669794202Z stdout F full"));
  CHECK_FALSE(isCriPartial("2016-10-06T00:17:09.669794202Z stdout PF x"));
  CHECK_FALSE(isCriPartial("garbage P x"));
  CHECK_FALSE(isCriPartial(""));
}

TEST_CASE("parsers/cri: the reassembler joins partial chunks per stream") {
  CriReassembler a(1024);
  const std::string full = "2016-10-06T00:17:09.000000001Z stdout F whole";
  auto out = a.feed(full);
  REQUIRE(out);
  CHECK(out->data() == full.data());  // nothing pending: the line itself, no copy

  CHECK_FALSE(a.feed("2016-10-06T00:17:09.000000002Z stdout P one "));
  CHECK(a.pending());
  CHECK_FALSE(a.feed("2016-10-06T00:17:09.000000003Z stdout P two "));
  // stderr interleaves and is complete on its own.
  out = a.feed("2016-10-06T00:17:09.000000004Z stderr F err line");
  REQUIRE(out);
  CHECK(*out == "2016-10-06T00:17:09.000000004Z stderr F err line");
  // A line that is not CRI passes through; the partial record stays pending.
  out = a.feed("not a cri line");
  REQUIRE(out);
  CHECK(*out == "not a cri line");
  out = a.feed("2016-10-06T00:17:09.000000005Z stdout F three");
  REQUIRE(out);
  CHECK(*out == "2016-10-06T00:17:09.000000002Z stdout F one two three");
  CHECK_FALSE(a.pending());
  CHECK(a.truncatedBytes() == 0);

  // The joined line parses, with the first chunk's time.
  auto r = cri(*out);
  REQUIRE(r.ok);
  CHECK(r["message"] == "one two three");
  CHECK(r["logtag"] == "F");
  CHECK(r.rec.time_unix_ns == 1475713029000000002);

  // The buffers are reused: a second joined record is right too.
  CHECK_FALSE(a.feed("2016-10-06T00:17:10Z stderr P a"));
  out = a.feed("2016-10-06T00:17:11Z stderr F b");
  REQUIRE(out);
  CHECK(*out == "2016-10-06T00:17:10Z stderr F ab");
}

TEST_CASE("parsers/cri: the reassembler truncates at max_bytes and flushes what is pending") {
  CriReassembler a(10);
  CHECK_FALSE(a.feed("2016-10-06T00:17:09Z stdout P 0123456"));
  CHECK_FALSE(a.feed("2016-10-06T00:17:09Z stdout P 789abc"));
  auto out = a.feed("2016-10-06T00:17:09Z stdout F def");
  REQUIRE(out);
  CHECK(*out == "2016-10-06T00:17:09Z stdout F 0123456789");
  CHECK(a.truncatedBytes() == 6);

  CHECK_FALSE(a.flush());
  CHECK_FALSE(a.feed("2016-10-06T00:17:09Z stdout P out"));
  CHECK_FALSE(a.feed("2016-10-06T00:17:09Z stderr P err"));
  out = a.flush();
  REQUIRE(out);
  CHECK(*out == "2016-10-06T00:17:09Z stdout F out");
  out = a.flush();
  REQUIRE(out);
  CHECK(*out == "2016-10-06T00:17:09Z stderr F err");
  CHECK_FALSE(a.flush());
  CHECK_FALSE(a.pending());

  // An empty partial chunk, then the end.
  CHECK_FALSE(a.feed("2016-10-06T00:17:09Z stdout P "));
  out = a.feed("2016-10-06T00:17:09Z stdout F");
  REQUIRE(out);
  CHECK(*out == "2016-10-06T00:17:09Z stdout F ");
  CHECK(cri(*out)["message"] == "");
}

TEST_CASE("parsers/docker: json-file lines") {
  auto r = docker(
      R"({"log":"hello world\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"})");
  REQUIRE(r.ok);
  CHECK(r["message"] == "hello world");
  CHECK(r["stream"] == "stdout");
  CHECK(r["time"] == std::nullopt);
  CHECK(r.rec.time_unix_ns == 1546341071111111111);

  // Escapes are decoded; the trailing newline (and a CR before it) removed.
  r = docker(
      R"({"log":"say \"hi\"\tand caf\u00e9\r\n","stream":"stderr","time":"2019-01-01T11:11:11Z"})");
  REQUIRE(r.ok);
  CHECK(r["message"] == "say \"hi\"\tand caf\xC3\xA9");
  CHECK(r["stream"] == "stderr");

  // A JSON application log inside the log string.
  r = docker(
      R"({"log":"{\"level\":\"info\",\"msg\":\"ok\"}\n","stream":"stdout","time":"2024-03-10T12:00:00Z"})");
  REQUIRE(r.ok);
  CHECK(r["message"] == R"({"level":"info","msg":"ok"})");

  // Any key order, white space, other members (attrs from --log-opt labels) skipped.
  r = docker(R"( { "time" : "2024-03-10T12:00:00Z", "attrs": {"tag": "x}", "n": [1, {"a": "]"}], )"
             R"("b": true}, "n": -1.5e3, "stream":"stdout" , "log" : "x\n" } )");
  REQUIRE(r.ok);
  CHECK(r["message"] == "x");
  CHECK(r["stream"] == "stdout");
  CHECK(r.rec.size() == 2);

  // A line docker cut at 16 KiB has no newline: kept as it is.
  r = docker(R"({"log":"partial","stream":"stdout","time":"2024-03-10T12:00:00Z"})");
  REQUIRE(r.ok);
  CHECK(r["message"] == "partial");
  // Only one newline is removed; an escaped backslash before 'n' is not a newline.
  r = docker(R"({"log":"two\n\n"})");
  REQUIRE(r.ok);
  CHECK(r["message"] == "two\n");
  r = docker(R"({"log":"path c:\\n"})");
  REQUIRE(r.ok);
  CHECK(r["message"] == "path c:\\n");
  r = docker(R"({"log":"newline as \u000a"})");
  REQUIRE(r.ok);
  CHECK(r["message"] == "newline as ");
  r = docker(R"({"log":""})");
  REQUIRE(r.ok);
  CHECK(r["message"] == "");
  CHECK(r["stream"] == std::nullopt);

  // A time that is not RFC 3339 stays a field.
  r = docker(R"({"log":"x\n","time":"yesterday"})");
  REQUIRE(r.ok);
  CHECK(r["time"] == "yesterday");
  CHECK_FALSE(r.rec.time_unix_ns.has_value());
}

TEST_CASE("parsers/docker: what does not parse") {
  const char* bad[] = {
      "",
      "plain text",
      "{}",
      R"({"stream":"stdout"})",                      // no log
      R"({"log":42})",                               // log not a string
      R"({"log":"x\n")",                             // not closed
      R"({"log":"x\n"} trailing)",                   // junk after the object
      R"({"log":"x\q"})",                            // bad escape
      R"({"log":"x\u12"})",                          // short \u
      R"({"log":"x" "stream":"y"})",                 // missing comma
      R"({"log" "x"})",                              // missing colon
      R"({log:"x"})",                                // unquoted key
      R"(["log","x"])",                              // not an object
      R"({"log":"x","attrs":{"a":"unterminated}})",  // open string in a skipped member
      R"({"log":"x","attrs":})",                     // missing value
  };
  for (const char* line : bad) {
    CAPTURE(line);
    CHECK_FALSE(docker(line).ok);
  }
  std::string deep = R"({"log":"x","a":)";
  deep += std::string(100, '[') + std::string(100, ']') + "}";
  CHECK_FALSE(docker(deep).ok);
}

TEST_CASE("parsers/cri and docker: config through the registry") {
  for (const char* name : {"cri", "docker"}) {
    CAPTURE(name);
    auto p = testing::makeParser(name);
    REQUIRE(p.isOk());
    CHECK(p.value()->name() == name);
    auto bad = testing::makeParser(std::string("{type: ") + name + ", max_bytes: 1}");
    REQUIRE_FALSE(bad.isOk());
    CHECK(bad.error().message.find("max_bytes") != std::string::npos);
  }
}

TEST_CASE("parsers/cri and docker: damaged lines never crash and leave well-formed fields") {
  testing::survivesDamage(CriParser(), "2016-10-06T00:17:09.669794202Z stdout P message text");
  testing::survivesDamage(
      DockerParser(),
      R"({"log":"a \"b\" \u00e9\ud83d\ude00\n","attrs":{"x":[1,"]"]},"stream":"stdout",)"
      R"("time":"2019-01-01T11:11:11.111111111Z"})");
  CriReassembler a(64);
  const std::string lines[] = {"2016-10-06T00:17:09Z stdout P a", "2016-10-06T00:17:09Z stdout F b",
                               "2016-10-06T00:17:09Z stderr P c"};
  for (const std::string& line : lines) {
    for (std::size_t n = 0; n <= line.size(); ++n) {
      (void)a.feed(std::string(line.substr(0, n)));
    }
  }
  while (a.flush()) {
  }
  CHECK_FALSE(a.pending());
}

}  // namespace
}  // namespace ingestd::parsers
