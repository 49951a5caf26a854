// The regex parser: nginx access lines with time and types, optional and duplicate groups, a
// time that does not parse, config errors at the right file:line with PCRE2's message, and
// several threads sharing one parser.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "plugins/parsers/regex/regex_parser.h"
#include "tests/unit/parsers/parser_test_util.h"

namespace ingestd::parsers {
namespace {

using testing::field;
using testing::isJson;

constexpr std::int64_t kS = kNsPerSecond;
std::int64_t fixedNow() { return 1710072000 * kS; }  // 2024-03-10T12:00:00Z

// nginx "combined": $remote_addr - $remote_user [$time_local] "$request" $status
// $body_bytes_sent "$http_referer" "$http_user_agent"
constexpr const char* kNginx =
    R"re(^(?<remote_addr>\S+) \S+ (?<remote_user>\S+) \[(?<time>[^\]]+)\] )re"
    R"re("(?<method>[A-Z]+) (?<path>[^ "]*) (?<protocol>[^"]*)" (?<status>\d{3}) (?<bytes>\d+|-) )re"
    R"re("(?<referer>[^"]*)" "(?<user_agent>[^"]*)"$)re";

RegexSettings nginxSettings() {
  RegexSettings s;
  s.pattern = kNginx;
  s.time_key = "time";
  s.time_format = "%d/%b/%Y:%H:%M:%S %z";
  s.types = {{"status", FieldType::kInt}, {"bytes", FieldType::kInt}};
  return s;
}

std::unique_ptr<RegexParser> make(const RegexSettings& s) {
  auto p = RegexParser::make(s, &fixedNow);
  REQUIRE_MESSAGE(p.isOk(), p.error().message);
  return std::move(p).value();
}

TEST_CASE("parsers/regex: nginx combined lines with the time and typed fields") {
  auto p = make(nginxSettings());
  MESSAGE("PCRE2 JIT: ", (p->jitForTest() ? "on" : "off"));
  ParsedRecord r;
  REQUIRE(p->parse(
      R"(203.0.113.7 - - [10/Mar/2024:13:00:00 +0100] "GET /api/v1/products?page=2&limit=50 )"
      R"(HTTP/1.1" 200 1234 "https://www.example.com/" "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) )"
      R"(Gecko/20100101 Firefox/133.0")",
      r));
  testing::checkWellFormed(r);
  CHECK(field(r, "remote_addr") == "203.0.113.7");
  CHECK(field(r, "remote_user") == "-");
  CHECK(field(r, "method") == "GET");
  CHECK(field(r, "path") == "/api/v1/products?page=2&limit=50");
  CHECK(field(r, "protocol") == "HTTP/1.1");
  CHECK(field(r, "status") == "200");
  CHECK(isJson(r, "status"));
  CHECK(field(r, "bytes") == "1234");
  CHECK(isJson(r, "bytes"));
  CHECK(field(r, "referer") == "https://www.example.com/");
  CHECK(field(r, "user_agent") ==
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 "
        "Firefox/133.0");
  CHECK(field(r, "time") == std::nullopt);  // it went to time_unix_ns
  CHECK(r.time_unix_ns == fixedNow());

  // A 304 with "-" as the size (some log formats): kept as text, not a number.
  r.clear();
  REQUIRE(p->parse(
      R"(10.0.0.1 - alice [10/Mar/2024:12:00:01 +0000] "HEAD /healthz HTTP/2.0" 304 - "-" )"
      R"("kube-probe/1.31")",
      r));
  CHECK(field(r, "remote_user") == "alice");
  CHECK(field(r, "bytes") == "-");
  CHECK_FALSE(isJson(r, "bytes"));
  CHECK(r.time_unix_ns == fixedNow() + kS);

  // Not an access line.
  r.clear();
  CHECK_FALSE(p->parse("2024/03/10 12:00:00 [error] 123#0: *1 open() failed", r));
  r.clear();
  CHECK_FALSE(p->parse("", r));
}

TEST_CASE("parsers/regex: a time that does not parse stays a field and the record parses") {
  auto p = make(nginxSettings());
  ParsedRecord r;
  REQUIRE(p->parse(R"(1.2.3.4 - - [yesterday noon] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0")", r));
  CHECK(field(r, "time") == "yesterday noon");
  CHECK_FALSE(r.time_unix_ns.has_value());
}

TEST_CASE("parsers/regex: time formats: iso8601 default, epoch, a format without a year") {
  RegexSettings s;
  s.pattern = R"(^(?<ts>\S+) (?<level>\w+) (?<message>.*)$)";
  s.time_key = "ts";
  auto iso = make(s);
  ParsedRecord r;
  REQUIRE(iso->parse("2024-03-10T12:00:00.250Z INFO server started on :8080", r));
  CHECK(r.time_unix_ns == fixedNow() + 250'000'000);
  CHECK(field(r, "level") == "INFO");
  CHECK(field(r, "message") == "server started on :8080");

  s.time_format = "epoch_ms";
  auto ms = make(s);
  r.clear();
  REQUIRE(ms->parse("1710072000123 WARN slow", r));
  CHECK(r.time_unix_ns == fixedNow() + 123'000'000);

  s.pattern = R"(^(?<ts>\w{3} +\d+ [\d:]+) (?<message>.*)$)";
  s.time_format = "%b %e %H:%M:%S";
  s.timezone = *DefaultZone::parse("-05:00");
  auto bsd = make(s);
  r.clear();
  REQUIRE(bsd->parse("Mar 10 07:00:00 hello", r));
  CHECK(r.time_unix_ns == fixedNow());  // 2024 from the clock, -05:00 from the setting
}

TEST_CASE("parsers/regex: types: int, float, bool, and values that do not convert stay text") {
  RegexSettings s;
  s.pattern = R"(^(?<i>\S*) (?<f>\S*) (?<b>\S*)$)";
  s.types = {{"i", FieldType::kInt}, {"f", FieldType::kFloat}, {"b", FieldType::kBool}};
  auto p = make(s);
  struct Case {
    const char* line;
    const char* i;
    bool i_json;
    const char* f;
    bool f_json;
    const char* b;
    bool b_json;
  };
  const Case cases[] = {
      {"42 0.125 true", "42", true, "0.125", true, "true", true},
      {"-7 1e3 FALSE", "-7", true, "1000", true, "false", true},
      {"+007 -2.50 yes", "7", true, "-2.5", true, "yes", false},
      {"99999999999999999999 inf 1", "99999999999999999999", false, "inf", false, "1", false},
      {"12a nan -", "12a", false, "nan", false, "-", false},
      {"- .5 True", "-", false, "0.5", true, "true", true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    ParsedRecord r;
    REQUIRE(p->parse(c.line, r));
    testing::checkWellFormed(r);
    CHECK(field(r, "i") == c.i);
    CHECK(isJson(r, "i") == c.i_json);
    CHECK(field(r, "f") == c.f);
    CHECK(isJson(r, "f") == c.f_json);
    CHECK(field(r, "b") == c.b);
    CHECK(isJson(r, "b") == c.b_json);
  }
  // An empty group converts to nothing: kept as an empty string.
  ParsedRecord r;
  REQUIRE(p->parse("  ", r));
  CHECK(field(r, "i") == "");
  CHECK_FALSE(isJson(r, "i"));
}

TEST_CASE("parsers/regex: optional groups that did not match are absent, (?J) names") {
  RegexSettings s;
  s.pattern = R"(^(?<a>\w+)(?: (?<b>\w+))?(?: (?<c>\w+))?$)";
  auto p = make(s);
  ParsedRecord r;
  REQUIRE(p->parse("one", r));
  CHECK(r.size() == 1);
  CHECK(field(r, "a") == "one");
  r.clear();
  REQUIRE(p->parse("one two", r));
  CHECK(r.size() == 2);
  CHECK(field(r, "b") == "two");

  // Two alternatives naming the same field: the one that matched.
  s.pattern = R"((?J)^(?:id=(?<id>\d+)|ID:(?<id>\w+))$)";
  auto dup = make(s);
  r.clear();
  REQUIRE(dup->parse("ID:abc", r));
  CHECK(r.size() == 1);
  CHECK(field(r, "id") == "abc");
  r.clear();
  REQUIRE(dup->parse("id=12", r));
  CHECK(r.size() == 1);
  CHECK(field(r, "id") == "12");
}

TEST_CASE("parsers/regex: bytes that are not UTF-8 match as bytes") {
  RegexSettings s;
  s.pattern = R"(^(?<k>[^=]+)=(?<v>.*)$)";
  auto p = make(s);
  ParsedRecord r;
  REQUIRE(p->parse(std::string_view("k\xff=v\0x", 6), r));
  CHECK(field(r, "k") == "k\xff");
  CHECK(field(r, "v") == std::string("v\0x", 3));
}

TEST_CASE("parsers/regex: config through the registry, and its errors") {
  auto ok = testing::makeParser(
      "type: regex\n"
      "pattern: '^(?<time>\\S+) (?<level>\\w+) (?<message>.*)$'\n"
      "time_key: time\n"
      "time_format: rfc3339\n"
      "timezone: UTC\n"
      "types: {level: string}\n");
  REQUIRE_MESSAGE(ok.isOk(), ok.error().message);
  CHECK(ok.value()->name() == "regex");
  ParsedRecord r;
  REQUIRE(ok.value()->parse("2024-03-10T12:00:00Z info up", r));
  CHECK(r.time_unix_ns == fixedNow());

  const auto error = [](const std::string& yaml) {
    auto p = testing::makeParser(yaml);
    REQUIRE_FALSE(p.isOk());
    return p.error().message;
  };
  // The pattern's own line, PCRE2's message and the offset.
  std::string e = error("type: regex\npattern: '^(?<a>x'\n");
  CHECK(e.find("t.yaml:2:") == 0);
  CHECK(e.find("'inputs[0].parser.pattern'") != std::string::npos);
  CHECK(e.find("invalid regular expression at offset 7: missing closing parenthesis") !=
        std::string::npos);
  e = error("type: regex\npattern: '(?<1a>x)'\n");
  CHECK(e.find("t.yaml:2:") == 0);
  CHECK(e.find("offset") != std::string::npos);
  e = error("type: regex\npattern: '^\\w+$'\n");
  CHECK(e.find("no named group") != std::string::npos);
  e = error("type: regex\npattern: '^(?<a>\\w+)$'\ntime_key: ts\n");
  CHECK(e.find("t.yaml:3:") == 0);
  CHECK(e.find("no group named 'ts'") != std::string::npos);
  e = error("type: regex\npattern: '^(?<a>\\w+)$'\ntime_key: a\ntime_format: '%Y-%q'\n");
  CHECK(e.find("t.yaml:4:") == 0);
  CHECK(e.find("unknown time format directive '%q'") != std::string::npos);
  e = error("type: regex\npattern: '^(?<a>\\w+)$'\ntime_format: '%Y'\n");
  CHECK(e.find("needs time_key") != std::string::npos);
  e = error("type: regex\npattern: '^(?<a>\\w+)$'\ntypes:\n  a: integer\n  b: int\n");
  CHECK(e.find("t.yaml:5:") == 0);
  CHECK(e.find("no group named 'b'") != std::string::npos);
  e = error("type: regex\npattern: '^(?<a>\\w+)$'\ntypes: {a: number}\n");
  CHECK(e.find("expected int, float, bool or string") != std::string::npos);
  e = error("type: regex\npattern: '^(?<a>\\w+)$'\ntypes: [a]\n");
  CHECK(e.find("expected a mapping") != std::string::npos);
  e = error("type: regex\npatern: '^(?<a>\\w+)$'\n");
  CHECK(e.find("patern") != std::string::npos);
  e = error("type: regex\n");
  CHECK(e.find("pattern") != std::string::npos);
  e = error("regex");
  CHECK(e.find("needs its settings") != std::string::npos);
  e = error("type: regex\npattern: '^(?<a>\\w+)$'\ntimezone: Mars/Olympus\n");
  CHECK(e.find("timezone") != std::string::npos);
}

TEST_CASE("parsers/regex: one parser shared by several threads") {
  auto p = make(nginxSettings());
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&p, &bad, t] {
      ParsedRecord r;
      for (int i = 0; i < 2000; ++i) {
        r.clear();
        const std::string line = "10.0.0." + std::to_string(t) +
                                 " - - [10/Mar/2024:12:00:00 +0000] \"GET /" + std::to_string(i) +
                                 " HTTP/1.1\" 200 " + std::to_string(i) + " \"-\" \"x\"";
        if (!p->parse(line, r) || field(r, "bytes") != std::to_string(i) ||
            field(r, "remote_addr") != "10.0.0." + std::to_string(t)) {
          bad.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK(bad.load() == 0);
}

TEST_CASE("parsers/regex: damaged lines never crash and leave well-formed fields") {
  auto p = make(nginxSettings());
  testing::survivesDamage(
      *p, R"(203.0.113.7 - - [10/Mar/2024:13:00:00 +0100] "GET /a?b=c HTTP/1.1" 200 1234 "-" "M")");
}

}  // namespace
}  // namespace ingestd::parsers
