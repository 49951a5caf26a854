// The syslog parser: RFC 5424 (the RFC's examples, util-linux logger, rsyslog), RFC 3164 and its
// variants (no hostname, ISO dates, no PRI, Cisco, Juniper, ASA), year inference, time zones,
// config errors, and malformed input.
#include <doctest/doctest.h>

#include <string>

#include "plugins/parsers/syslog/syslog_parser.h"
#include "tests/unit/parsers/parser_test_util.h"

namespace ingestd::parsers {
namespace {

using testing::field;
using testing::isJson;

constexpr std::int64_t kS = kNsPerSecond;
std::int64_t g_now = 1710072000 * kS;  // 2024-03-10T12:00:00Z
std::int64_t fakeNow() { return g_now; }

std::int64_t utc(std::string_view rfc3339) {
  auto t = parseRfc3339(rfc3339);
  REQUIRE(t);
  return *t;
}

struct Parsed {
  bool ok = false;
  ParsedRecord rec;
  std::optional<std::string> operator[](std::string_view key) const { return field(rec, key); }
};

Parsed parseWith(const SyslogSettings& s, std::string_view line) {
  SyslogParser p(s, &fakeNow);
  Parsed r;
  r.ok = p.parse(line, r.rec);
  if (r.ok) {
    testing::checkWellFormed(r.rec);
  }
  return r;
}

Parsed parse(std::string_view line) { return parseWith(SyslogSettings{}, line); }

TEST_CASE("parsers/syslog: RFC 5424 examples from the RFC") {
  auto r = parse(
      "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
      "\xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "auth");
  CHECK(r["severity"] == "crit");
  CHECK(r["host"] == "mymachine.example.com");
  CHECK(r["appname"] == "su");
  CHECK(r["procid"] == std::nullopt);  // NILVALUE: absent
  CHECK(r["msgid"] == "ID47");
  CHECK(r["structured_data"] == std::nullopt);
  CHECK(r["message"] == "'su root' failed for lonvick on /dev/pts/8");  // BOM stripped
  CHECK(r.rec.time_unix_ns == utc("2003-10-11T22:14:15.003Z"));
  CHECK(r.rec.find("timestamp") == std::nullopt);

  r = parse(
      "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make "
      "the do-nuts.");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "local4");
  CHECK(r["severity"] == "notice");
  CHECK(r["host"] == "192.0.2.1");
  CHECK(r["procid"] == "8710");
  CHECK(r["msgid"] == std::nullopt);
  CHECK(r["message"] == "%% It's time to make the do-nuts.");
  CHECK(r.rec.time_unix_ns == 1061727255000003000);

  r = parse(
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
      "iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xEF\xBB\xBF"
      "An application event log entry...");
  REQUIRE(r.ok);
  CHECK(isJson(r.rec, "structured_data"));
  CHECK(r["structured_data"] ==
        R"({"exampleSDID@32473":{"iut":"3","eventSource":"Application","eventID":"1011"}})");
  CHECK(r["message"] == "An application event log entry...");

  // Two elements and no MSG.
  r = parse(
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
      "iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 "
      "class=\"high\"]");
  REQUIRE(r.ok);
  CHECK(r["structured_data"] ==
        R"({"exampleSDID@32473":{"iut":"3","eventSource":"Application","eventID":"1011"},)"
        R"("examplePriority@32473":{"class":"high"}})");
  CHECK(r["message"] == std::nullopt);
}

TEST_CASE("parsers/syslog: RFC 5424 from util-linux logger and rsyslog") {
  // logger --rfc5424 --id=4242 -t alice -n host -T hello world
  auto r = parse(
      "<13>1 2024-03-10T12:59:00.123456+01:00 web01 alice 4242 - [timeQuality tzKnown=\"1\" "
      "isSynced=\"1\" syncAccuracy=\"433500\"] hello world");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "user");
  CHECK(r["severity"] == "notice");
  CHECK(r["host"] == "web01");
  CHECK(r["appname"] == "alice");
  CHECK(r["procid"] == "4242");
  CHECK(r["structured_data"] ==
        R"({"timeQuality":{"tzKnown":"1","isSynced":"1","syncAccuracy":"433500"}})");
  CHECK(r["message"] == "hello world");
  CHECK(r.rec.time_unix_ns == utc("2024-03-10T11:59:00.123456Z"));

  // rsyslog RSYSLOG_SyslogProtocol23Format, with the trailing newline of its TCP framing.
  r = parse(
      "<86>1 2024-03-10T11:59:59.987654+00:00 bastion sshd 31337 - - Accepted publickey for "
      "deploy from 10.1.2.3 port 51234 ssh2\n");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "authpriv");
  CHECK(r["severity"] == "info");
  CHECK(r["message"] == "Accepted publickey for deploy from 10.1.2.3 port 51234 ssh2");

  // The same format for a message rsyslog got from its local socket: %msg% keeps the space after
  // "tag:", so two spaces follow the NIL structured data; one is dropped, more are kept.
  r = parse("<13>1 2026-12-02T10:34:32.266197+00:00 vm relayed - - -  seq=1 a\n");
  REQUIRE(r.ok);
  CHECK(r["appname"] == "relayed");
  CHECK(r["message"] == "seq=1 a");
  r = parse("<13>1 - vm app - - -    indented\n");
  REQUIRE(r.ok);
  CHECK(r["message"] == "  indented");

  // Every header field NIL; no time, no MSG.
  r = parse("<14>1 - - - - - -");
  REQUIRE(r.ok);
  CHECK(r.rec.size() == 2);
  CHECK(r["facility"] == "user");
  CHECK(r["severity"] == "info");
  CHECK_FALSE(r.rec.time_unix_ns.has_value());

  // An empty MSG after the space.
  r = parse("<14>1 - host app - - - ");
  REQUIRE(r.ok);
  CHECK(r["message"] == std::nullopt);
  CHECK(r["host"] == "host");
}

TEST_CASE("parsers/syslog: RFC 5424 structured data escapes become valid JSON") {
  auto r = parse(R"(<14>1 2024-03-10T12:00:00Z h a - - [x@1 q="say \"hi\"" b="back\\slash" )"
                 R"(c="close\]bracket" d="other\n" )"
                 "e=\"tab\tctl\"] msg");
  REQUIRE(r.ok);
  // \" \\ \] are decoded; a backslash before anything else is kept (RFC 5424 6.3.3).
  CHECK(r["structured_data"] ==
        R"({"x@1":{"q":"say \"hi\"","b":"back\\slash","c":"close]bracket","d":"other\\n",)"
        R"("e":"tab\tctl"}})");
  CHECK(r["message"] == "msg");

  // An empty element, an empty value, a ']' and '[' inside a value, UTF-8 and a bad byte.
  r = parse("<14>1 2024-03-10T12:00:00Z h a - - [empty][v k=\"\" l=\"[a]\" u=\"\xC3\xA9\xFF\"]");
  REQUIRE(r.ok);
  CHECK(r["structured_data"] ==
        "{\"empty\":{},\"v\":{\"k\":\"\",\"l\":\"[a]\",\"u\":\"\xC3\xA9\\ufffd\"}}");
}

TEST_CASE("parsers/syslog: RFC 5424 that breaks the grammar does not parse") {
  const char* bad[] = {
      "<34>1 2003-10-11T22:14:15.003Z host",                           // truncated header
      "<34>1 2003-10-11T22:14:15.003Z host app proc msgid",            // no SD
      "<34>1 2003-10-11 22:14:15Z host app proc msgid -",              // space in the date
      "<34>1 2003-10-11T22:14:15 host app proc msgid - msg",           // no zone
      "<34>1 yesterday host app proc msgid - msg",                     // not a date
      "<34>1 2003-13-11T22:14:15Z host app proc msgid - msg",          // month 13
      "<34>1 2003-10-11T22:14:15Z host app proc msgid [unterminated",  // open SD
      "<34>1 2003-10-11T22:14:15Z host app proc msgid [id k=v]",       // unquoted value
      "<34>1 2003-10-11T22:14:15Z host app proc msgid [id k=\"v]",     // open value
      "<34>1 2003-10-11T22:14:15Z host app proc msgid [=x]",           // empty SD-ID
      "<34>1 2003-10-11T22:14:15Z host app proc msgid [id]x",          // junk after SD
      "<34>1 2003-10-11T22:14:15Z host app proc msgid -x",             // junk after NIL SD
      "<34>1  2003-10-11T22:14:15Z host app proc msgid - x",           // two spaces
      "<192>1 2003-10-11T22:14:15Z host app proc msgid - x",           // PRI past 191
  };
  for (const char* line : bad) {
    CAPTURE(line);
    CHECK_FALSE(parse(line).ok);
    SyslogSettings strict;
    strict.format = SyslogFormat::kRfc5424;
    CHECK_FALSE(parseWith(strict, line).ok);
  }
  SyslogSettings strict;
  strict.format = SyslogFormat::kRfc5424;
  CHECK_FALSE(parseWith(strict, "<34>Oct 11 22:14:15 mymachine su: failed").ok);
  CHECK_FALSE(parseWith(strict, "").ok);
}

TEST_CASE("parsers/syslog: RFC 3164 examples and rsyslog's traditional format") {
  auto r = parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "auth");
  CHECK(r["severity"] == "crit");
  CHECK(r["host"] == "mymachine");
  CHECK(r["appname"] == "su");
  CHECK(r["procid"] == std::nullopt);
  CHECK(r["message"] == "'su root' failed for lonvick on /dev/pts/8");
  CHECK(r.rec.time_unix_ns == utc("2023-10-11T22:14:15Z"));  // October is in the past year

  r = parse("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!");
  REQUIRE(r.ok);
  CHECK(r["host"] == "10.0.0.99");
  CHECK(r["appname"] == std::nullopt);
  CHECK(r["message"] == "Use the BFG!");
  CHECK(r.rec.time_unix_ns == utc("2024-02-05T17:32:18Z"));

  r = parse(
      "<38>Mar 10 11:58:01 web01 sshd[4121]: Accepted publickey for deploy from 10.1.2.3 port "
      "51234 ssh2: ED25519 SHA256:abc");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "auth");
  CHECK(r["severity"] == "info");
  CHECK(r["host"] == "web01");
  CHECK(r["appname"] == "sshd");
  CHECK(r["procid"] == "4121");
  CHECK(r["message"] ==
        "Accepted publickey for deploy from 10.1.2.3 port 51234 ssh2: ED25519 SHA256:abc");
  CHECK(r.rec.time_unix_ns == utc("2024-03-10T11:58:01Z"));

  r = parse("<78>Mar 10 11:00:01 web01 CRON[2345]: (root) CMD (run-parts /etc/cron.hourly)");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "cron");
  CHECK(r["appname"] == "CRON");
  CHECK(r["message"] == "(root) CMD (run-parts /etc/cron.hourly)");

  r = parse("<4>Mar 10 11:00:01 web01 kernel: [12345.678901] eth0: link up");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "kern");
  CHECK(r["severity"] == "warning");
  CHECK(r["appname"] == "kernel");
  CHECK(r["message"] == "[12345.678901] eth0: link up");

  r = parse("<22>Mar 10 11:00:01 mail postfix/smtpd[1234]: connect from unknown[1.2.3.4]");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "mail");
  CHECK(r["appname"] == "postfix/smtpd");
  CHECK(r["procid"] == "1234");

  // The tag without a colon after [pid] (some daemons), and a tag with an empty message.
  r = parse("<30>Mar 10 11:00:01 web01 systemd[1] Started Session 42.");
  REQUIRE(r.ok);
  CHECK(r["appname"] == "systemd");
  CHECK(r["message"] == "Started Session 42.");
  r = parse("<30>Mar 10 11:00:01 web01 systemd:");
  REQUIRE(r.ok);
  CHECK(r["appname"] == "systemd");
  CHECK(r["message"] == std::nullopt);
}

TEST_CASE("parsers/syslog: RFC 3164 from util-linux logger") {
  // logger to /dev/log: no hostname.
  auto r = parse("<13>Mar 10 11:59:00 alice: hello world");
  REQUIRE(r.ok);
  CHECK(r["host"] == std::nullopt);
  CHECK(r["appname"] == "alice");
  CHECK(r["message"] == "hello world");
  // logger --rfc3164 -n host: with hostname, --id adds the pid.
  r = parse("<13>Mar 10 11:59:00 web01 alice[777]: hello world");
  REQUIRE(r.ok);
  CHECK(r["host"] == "web01");
  CHECK(r["appname"] == "alice");
  CHECK(r["procid"] == "777");
  // logger -p local3.err
  r = parse("<155>Mar 10 11:59:00 web01 alice: disk full");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "local3");
  CHECK(r["severity"] == "err");
}

TEST_CASE("parsers/syslog: RFC 3164 variants: ISO dates, no PRI, no timestamp") {
  // rsyslog RSYSLOG_ForwardFormat.
  auto r = parse(
      "<30>2024-03-10T11:59:59.123456+01:00 web01 systemd[1]: Started Session 42 of user root.");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "daemon");
  CHECK(r["host"] == "web01");
  CHECK(r["appname"] == "systemd");
  CHECK(r["procid"] == "1");
  CHECK(r.rec.time_unix_ns == utc("2024-03-10T10:59:59.123456Z"));
  // ISO without a zone: the default zone (UTC).
  r = parse("<30>2024-03-10 11:59:59 web01 app: x");
  REQUIRE(r.ok);
  CHECK(r.rec.time_unix_ns == utc("2024-03-10T11:59:59Z"));
  // No PRI: no facility or severity.
  r = parse("Mar 10 11:00:00 web01 nginx[99]: started");
  REQUIRE(r.ok);
  CHECK(r["facility"] == std::nullopt);
  CHECK(r["severity"] == std::nullopt);
  CHECK(r["host"] == "web01");
  CHECK(r["appname"] == "nginx");
  // A PRI and no timestamp: no hostname is guessed, a tag is still read.
  r = parse("<13>just some text");
  REQUIRE(r.ok);
  CHECK(r["message"] == "just some text");
  CHECK(r["host"] == std::nullopt);
  CHECK_FALSE(r.rec.time_unix_ns.has_value());
  r = parse("<13>app[12]: text");
  REQUIRE(r.ok);
  CHECK(r["appname"] == "app");
  CHECK(r["message"] == "text");
  // Neither PRI nor timestamp: not syslog.
  CHECK_FALSE(parse("just some text").ok);
  CHECK_FALSE(parse("").ok);
  CHECK_FALSE(parse("\n").ok);
  // "<13>" alone.
  r = parse("<13>");
  REQUIRE(r.ok);
  CHECK(r.rec.size() == 2);
}

TEST_CASE("parsers/syslog: network gear: Cisco IOS, ASA, Juniper") {
  auto r = parse(
      "<189>1234: *Mar  1 00:00:01.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed "
      "state to up");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "local7");
  CHECK(r["severity"] == "notice");
  CHECK(r["host"] == std::nullopt);
  CHECK(r["appname"] == std::nullopt);
  CHECK(r["message"] == "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up");
  CHECK(r.rec.time_unix_ns == utc("2024-03-01T00:00:01.123Z"));

  // service timestamps log datetime msec show-timezone
  r = parse("<187>57: Mar 10 10:00:00.456 UTC: %SYS-3-CPUHOG: Task is running for (2000)msecs");
  REQUIRE(r.ok);
  CHECK(r["severity"] == "err");
  CHECK(r["message"] == "%SYS-3-CPUHOG: Task is running for (2000)msecs");
  CHECK(r.rec.time_unix_ns == utc("2024-03-10T10:00:00.456Z"));

  // Cisco with the hostname after the timestamp.
  r = parse("<190>Mar 10 10:00:00 core-sw1 %SEC-6-IPACCESSLOGP: list 101 denied tcp");
  REQUIRE(r.ok);
  CHECK(r["host"] == "core-sw1");
  CHECK(r["message"] == "%SEC-6-IPACCESSLOGP: list 101 denied tcp");

  // ASA: a year in the date and " : " after the hostname.
  r = parse(
      "<166>Mar 10 2024 10:15:42 fw01 : %ASA-6-302013: Built outbound TCP connection 123 for "
      "outside:1.2.3.4/443");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "local4");
  CHECK(r["host"] == "fw01");
  CHECK(r["message"] == "%ASA-6-302013: Built outbound TCP connection 123 for outside:1.2.3.4/443");
  CHECK(r.rec.time_unix_ns == utc("2024-03-10T10:15:42Z"));

  // Juniper SRX.
  r = parse("<14>Mar 10 11:00:00 srx1 RT_FLOW: RT_FLOW_SESSION_CREATE: session created");
  REQUIRE(r.ok);
  CHECK(r["host"] == "srx1");
  CHECK(r["appname"] == "RT_FLOW");
  CHECK(r["message"] == "RT_FLOW_SESSION_CREATE: session created");

  // A URL as the first word is not a tag.
  r = parse("<14>Mar 10 11:00:00 proxy http://example.com/ fetched");
  REQUIRE(r.ok);
  CHECK(r["host"] == "proxy");
  CHECK(r["appname"] == std::nullopt);
  CHECK(r["message"] == "http://example.com/ fetched");
}

TEST_CASE("parsers/syslog: RFC 3164 year inference and the timezone setting") {
  const std::int64_t saved = g_now;
  g_now = utc("2024-01-01T00:10:00Z");
  auto r = parse("<13>Dec 31 23:59:00 h app: last year");
  REQUIRE(r.ok);
  CHECK(r.rec.time_unix_ns == utc("2023-12-31T23:59:00Z"));
  r = parse("<13>Jan  1 00:30:00 h app: a little ahead");
  REQUIRE(r.ok);
  CHECK(r.rec.time_unix_ns == utc("2024-01-01T00:30:00Z"));
  g_now = saved;

  SyslogSettings berlin;
  berlin.timezone = *DefaultZone::parse("+01:00");
  r = parseWith(berlin, "<13>Mar 10 13:00:00 h app: x");
  REQUIRE(r.ok);
  CHECK(r.rec.time_unix_ns == utc("2024-03-10T12:00:00Z"));
  // An ISO date with its own offset ignores the setting; one without takes it.
  r = parseWith(berlin, "<13>2024-03-10T13:00:00+02:00 h app: x");
  REQUIRE(r.ok);
  CHECK(r.rec.time_unix_ns == utc("2024-03-10T11:00:00Z"));
  r = parseWith(berlin, "<13>2024-03-10T13:00:00 h app: x");
  REQUIRE(r.ok);
  CHECK(r.rec.time_unix_ns == utc("2024-03-10T12:00:00Z"));
  // RFC 5424 always carries its offset.
  r = parseWith(berlin, "<13>1 2024-03-10T13:00:00Z h app - - - x");
  REQUIRE(r.ok);
  CHECK(r.rec.time_unix_ns == utc("2024-03-10T13:00:00Z"));
}

TEST_CASE("parsers/syslog: format rfc3164 reads RFC 5424 headers as text") {
  SyslogSettings s;
  s.format = SyslogFormat::kRfc3164;
  auto r = parseWith(s, "<13>1 2024-03-10T12:00:00Z h app - - - x");
  REQUIRE(r.ok);
  CHECK(r["facility"] == "user");
  CHECK_FALSE(r.rec.time_unix_ns.has_value());
  CHECK(r["message"] == "1 2024-03-10T12:00:00Z h app - - - x");
}

TEST_CASE("parsers/syslog: every facility and severity has its name") {
  CHECK(syslogFacilityName(0) == "kern");
  CHECK(syslogFacilityName(10) == "authpriv");
  CHECK(syslogFacilityName(13) == "security");
  CHECK(syslogFacilityName(14) == "console");
  CHECK(syslogFacilityName(15) == "solaris-cron");
  CHECK(syslogFacilityName(16) == "local0");
  CHECK(syslogFacilityName(23) == "local7");
  CHECK(syslogSeverityName(0) == "emerg");
  CHECK(syslogSeverityName(4) == "warning");
  CHECK(syslogSeverityName(7) == "debug");
  for (int pri = 0; pri <= 191; ++pri) {
    auto r = parse("<" + std::to_string(pri) + ">Mar 10 11:00:00 h app: x");
    REQUIRE(r.ok);
    CHECK(r["facility"] == std::string(syslogFacilityName(pri / 8)));
    CHECK(r["severity"] == std::string(syslogSeverityName(pri % 8)));
  }
}

TEST_CASE("parsers/syslog: config through the registry") {
  auto p = testing::makeParser("syslog");
  REQUIRE(p.isOk());
  CHECK(p.value()->name() == "syslog");
  auto m = testing::makeParser("{type: syslog, format: rfc5424, timezone: '+02:00'}");
  REQUIRE_MESSAGE(m.isOk(), m.error().message);
  ParsedRecord rec;
  CHECK_FALSE(m.value()->parse("<13>Mar 10 11:00:00 h app: x", rec));

  auto bad_format = testing::makeParser("{type: syslog, format: bsd}");
  REQUIRE_FALSE(bad_format.isOk());
  CHECK(bad_format.error().message.find("t.yaml:1:") == 0);
  CHECK(bad_format.error().message.find("format") != std::string::npos);
  auto bad_zone = testing::makeParser("{type: syslog, timezone: Europe/Berlin}");
  REQUIRE_FALSE(bad_zone.isOk());
  CHECK(bad_zone.error().message.find("timezone") != std::string::npos);
  auto unknown = testing::makeParser("{type: syslog, fromat: rfc5424}");
  REQUIRE_FALSE(unknown.isOk());
  CHECK(unknown.error().message.find("fromat") != std::string::npos);
}

TEST_CASE("parsers/syslog: damaged lines never crash and leave well-formed fields") {
  SyslogParser p(SyslogSettings{}, &fakeNow);
  const char* lines[] = {
      ("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
       "iut=\"3\" eventSource=\"App\\\"x\\]\"][b c=\"d\"] \xEF\xBB\xBFmsg"),
      "<34>Oct 11 22:14:15 mymachine su[12]: 'su root' failed",
      "<189>1234: *Mar  1 00:00:01.123 UTC: %LINK-3-UPDOWN: up",
      "<166>Mar 10 2024 10:15:42 fw01 : %ASA-6-302013: Built",
      "<30>2024-03-10T11:59:59.123456+01:00 web01 systemd[1]: Started",
  };
  for (const char* line : lines) {
    testing::survivesDamage(p, line);
  }
}

}  // namespace
}  // namespace ingestd::parsers
