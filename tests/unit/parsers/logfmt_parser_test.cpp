// The logfmt parser: application lines (Go kit, logrus, Heroku router), quoting and escapes,
// bare keys, duplicates, msg -> message, and what does not parse.
#include <doctest/doctest.h>

#include <string>

#include "plugins/parsers/logfmt/logfmt_parser.h"
#include "tests/unit/parsers/parser_test_util.h"

namespace ingestd::parsers {
namespace {

using testing::field;
using testing::isJson;

struct Parsed {
  bool ok = false;
  ParsedRecord rec;
  std::optional<std::string> operator[](std::string_view key) const { return field(rec, key); }
};

Parsed parse(std::string_view line) {
  LogfmtParser p;
  Parsed r;
  r.ok = p.parse(line, r.rec);
  if (r.ok) {
    testing::checkWellFormed(r.rec);
  }
  return r;
}

TEST_CASE("parsers/logfmt: application lines") {
  auto r = parse(
      "time=2024-03-10T12:00:00.123Z level=info msg=\"request done\" method=GET "
      "path=/api/v1/users status=200 duration=12.3ms");
  REQUIRE(r.ok);
  CHECK(r.rec.size() == 7);
  CHECK(r["time"] == "2024-03-10T12:00:00.123Z");
  CHECK(r["level"] == "info");
  CHECK(r["message"] == "request done");
  CHECK(r["msg"] == std::nullopt);
  CHECK(r["path"] == "/api/v1/users");
  CHECK(r["status"] == "200");
  CHECK_FALSE(isJson(r.rec, "status"));  // values stay text
  CHECK(r["duration"] == "12.3ms");

  // logrus's text formatter.
  r = parse(
      "time=\"2024-03-10T12:00:00Z\" level=warning msg=\"disk almost full\" free_bytes=1024 "
      "mount=/var");
  REQUIRE(r.ok);
  CHECK(r["time"] == "2024-03-10T12:00:00Z");
  CHECK(r["level"] == "warning");
  CHECK(r["message"] == "disk almost full");

  // Heroku router.
  r = parse(
      "at=info method=GET path=\"/\" host=example.herokuapp.com "
      "request_id=8601b555-6a83-4c12-8269-97c8e32cdb22 fwd=\"204.204.204.204\" dyno=web.1 "
      "connect=1ms service=18ms status=200 bytes=13 protocol=https");
  REQUIRE(r.ok);
  CHECK(r.rec.size() == 12);
  CHECK(r["path"] == "/");
  CHECK(r["fwd"] == "204.204.204.204");
  CHECK(r["protocol"] == "https");

  // Prometheus / Go kit with a caller and a multi-word quoted error.
  r = parse(
      "ts=2024-03-10T12:00:00.000Z caller=main.go:42 level=error component=tsdb "
      "err=\"open /data/wal: no such file or directory\"");
  REQUIRE(r.ok);
  CHECK(r["caller"] == "main.go:42");
  CHECK(r["err"] == "open /data/wal: no such file or directory");
}

TEST_CASE("parsers/logfmt: quoted values, escapes, empty values and '=' in values") {
  auto r =
      parse(R"(msg="say \"hi\"\n" path="C:\\temp" e="caf\u00e9 \ud83d\ude00" odd="x\qy" empty="" )"
            R"(bare= url=/a?b=c&d=e)");
  REQUIRE(r.ok);
  CHECK(r["message"] == "say \"hi\"\n");
  CHECK(r["path"] == "C:\\temp");
  CHECK(r["e"] == "caf\xC3\xA9 \xF0\x9F\x98\x80");
  CHECK(r["odd"] == "x\\qy");  // an unknown escape is kept as written
  CHECK(r["empty"] == "");
  CHECK(r["bare"] == "");
  CHECK(r["url"] == "/a?b=c&d=e");
  // Tabs separate pairs too, and trailing white space is fine.
  r = parse("a=1\tb=2 \r\n");
  REQUIRE(r.ok);
  CHECK(r["a"] == "1");
  CHECK(r["b"] == "2");
  // Quotes inside a bare value are part of it.
  r = parse("q=a\"b");
  REQUIRE(r.ok);
  CHECK(r["q"] == "a\"b");
}

TEST_CASE("parsers/logfmt: bare keys are true, duplicates keep the last value") {
  auto r = parse("debug level=info cached");
  REQUIRE(r.ok);
  CHECK(r["debug"] == "true");
  CHECK(isJson(r.rec, "debug"));
  CHECK(r["cached"] == "true");
  CHECK(r["level"] == "info");

  r = parse("a=1 b=2 a=3");
  REQUIRE(r.ok);
  CHECK(r.rec.size() == 2);
  CHECK(r["a"] == "3");
  CHECK(r["b"] == "2");
  // msg and message are the same field: the last wins.
  r = parse("msg=first message=second");
  REQUIRE(r.ok);
  CHECK(r.rec.size() == 1);
  CHECK(r["message"] == "second");
  r = parse("message=first msg=\"second one\"");
  REQUIRE(r.ok);
  CHECK(r["message"] == "second one");
  // A bare key then a value for it.
  r = parse("x y=1 x=2");
  REQUIRE(r.ok);
  CHECK(r["x"] == "2");
  CHECK_FALSE(isJson(r.rec, "x"));

  // Many keys (the duplicate filter's hash collides): every key once, with its last value.
  std::string line;
  for (int i = 0; i < 100; ++i) {
    line += "k" + std::to_string(i) + "=" + std::to_string(i) + " ";
  }
  for (int i = 0; i < 100; i += 10) {
    line += "k" + std::to_string(i) + "=again ";
  }
  r = parse(line);
  REQUIRE(r.ok);
  CHECK(r.rec.size() == 100);
  CHECK(r["k0"] == "again");
  CHECK(r["k1"] == "1");
  CHECK(r["k90"] == "again");
  CHECK(r["k99"] == "99");
}

TEST_CASE("parsers/logfmt: what does not parse") {
  CHECK_FALSE(parse("").ok);
  CHECK_FALSE(parse("   ").ok);
  CHECK_FALSE(parse("plain text without pairs").ok);     // bare keys only
  CHECK_FALSE(parse("=value").ok);                       // no key
  CHECK_FALSE(parse("a=1 =2").ok);                       // no key
  CHECK_FALSE(parse("\"quoted\"=x").ok);                 // quote in a key
  CHECK_FALSE(parse("ke\"y=x").ok);                      // quote in a key
  CHECK_FALSE(parse("a=\"unterminated").ok);             // open quote
  CHECK_FALSE(parse("a=\"ends with backslash\\\"").ok);  // the last quote is escaped
  CHECK_FALSE(parse("a=\"b\"c").ok);                     // junk after the closing quote
  CHECK_FALSE(parse("{\"json\":true}").ok);
}

TEST_CASE("parsers/logfmt: config through the registry") {
  auto p = testing::makeParser("logfmt");
  REQUIRE(p.isOk());
  CHECK(p.value()->name() == "logfmt");
  CHECK(testing::makeParser("{type: logfmt}").isOk());
  auto bad = testing::makeParser("{type: logfmt, bare_keys: true}");
  REQUIRE_FALSE(bad.isOk());
  CHECK(bad.error().message.find("bare_keys") != std::string::npos);
}

TEST_CASE("parsers/logfmt: damaged lines never crash and leave well-formed fields") {
  LogfmtParser p;
  testing::survivesDamage(p, R"(level=info msg="a \"b\" \u00e9\\" flag path=/x?y=z dup=1 dup=2)");
}

}  // namespace
}  // namespace ingestd::parsers
