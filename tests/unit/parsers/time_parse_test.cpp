// The parsers' shared time helpers (plugins/common/time_parse.h): RFC 3339 / ISO 8601, BSD
// syslog dates and year inference, default zones, and the strftime-like TimeFormat. Expected
// values are unix times computed independently (Python's datetime).
#include <doctest/doctest.h>

#include <cstdlib>

#include "plugins/common/time_parse.h"

namespace ingestd::parsers {
namespace {

constexpr std::int64_t kS = kNsPerSecond;
constexpr std::int64_t kNow = 1710072000 * kS;  // 2024-03-10T12:00:00Z
std::int64_t fixedNow() { return kNow; }

std::int64_t fmtParse(std::string_view spec, std::string_view text,
                      DefaultZone zone = DefaultZone()) {
  auto f = TimeFormat::compile(spec);
  REQUIRE_MESSAGE(f.isOk(), f.error().message);
  auto t = f.value().parse(text, zone, &fixedNow);
  REQUIRE_MESSAGE(t.has_value(), spec, " did not parse ", text);
  return *t;
}

bool fmtFails(std::string_view spec, std::string_view text) {
  auto f = TimeFormat::compile(spec);
  REQUIRE(f.isOk());
  return !f.value().parse(text, DefaultZone(), &fixedNow).has_value();
}

TEST_CASE("parsers/time: civil dates around the epoch, leap years and the int64 limit") {
  CHECK(daysFromCivil(1970, 1, 1) == 0);
  CHECK(daysFromCivil(1969, 12, 31) == -1);
  CHECK(daysFromCivil(2000, 3, 1) == 11017);
  CHECK(validDate(2024, 2, 29));
  CHECK_FALSE(validDate(2023, 2, 29));
  CHECK_FALSE(validDate(1900, 2, 29));
  CHECK(validDate(2000, 2, 29));
  CHECK_FALSE(validDate(2024, 4, 31));
  CHECK_FALSE(validDate(2024, 13, 1));
  CHECK(civilToUnixNs(2024, 2, 29, 0, 0, 0, 0) == 1709164800 * kS);
  CHECK(civilToUnixNs(2262, 1, 1, 0, 0, 0, 0) == std::nullopt);  // past int64 nanoseconds
  CHECK(yearOf(0) == 1970);
  CHECK(yearOf(-1) == 1969);
  CHECK(yearOf(kNow) == 2024);
  CHECK(yearOf(1709164800 * kS) == 2024);
}

TEST_CASE("parsers/time: RFC 3339 with fractions and offsets") {
  CHECK(parseRfc3339("2003-10-11T22:14:15.003Z") == 1065910455003000000);
  CHECK(parseRfc3339("2003-08-24T05:14:15.000003-07:00") == 1061727255000003000);
  CHECK(parseRfc3339("2016-10-06T00:17:09.669794202Z") == 1475713029669794202);
  CHECK(parseRfc3339("1985-04-12T23:20:50.52Z") == 482196050520000000);
  CHECK(parseRfc3339("1985-04-12t23:20:50.52z") == 482196050520000000);
  CHECK(parseRfc3339("2016-10-06T00:17:09.6697942021234Z") == 1475713029669794202);
  CHECK(parseRfc3339("2024-03-10T13:00:00+0100") == kNow);
  CHECK(parseRfc3339("2024-03-10T12:00:00") == std::nullopt);  // no zone
  CHECK(parseRfc3339("2024-03-10T12:00:00Z ") == std::nullopt);
  CHECK(parseRfc3339("2024-02-30T12:00:00Z") == std::nullopt);
  CHECK(parseRfc3339("2024-03-10T24:00:00Z") == std::nullopt);
  CHECK(parseRfc3339("2024-03-10T12:60:00Z") == std::nullopt);
  CHECK(parseRfc3339("2024-03-10T12:00:00+25:00") == std::nullopt);
  CHECK(parseRfc3339("2024-03-10T12:00:00.Z") == std::nullopt);
  CHECK(parseRfc3339("") == std::nullopt);
  CHECK(parseRfc3339("2024-03-1") == std::nullopt);

  auto t = scanIso8601("2024-03-10 12:00:00 web01 rest");
  REQUIRE(t);
  CHECK(t->length == 19);
  CHECK_FALSE(t->has_zone);
  CHECK(t->unix_ns == kNow);
  auto minutes = scanIso8601("2024-03-10T12:00Z");
  REQUIRE(minutes);
  CHECK(minutes->unix_ns == kNow);
}

TEST_CASE("parsers/time: BSD dates, with a year or an inferred one") {
  auto t = scanBsdTime("Mar 10 11:59:00 host");
  REQUIRE(t);
  CHECK(t->length == 15);
  CHECK(bsdWallNs(*t, kNow) == kNow - 60 * kS);
  auto padded = scanBsdTime("Mar  1 00:00:01.123: %LINK");
  REQUIRE(padded);
  CHECK(padded->length == 19);
  CHECK(bsdWallNs(*padded, kNow) == (1709251201 * kS + 123000000));
  auto with_year = scanBsdTime("Dec 31 2023 23:59:59 fw01");
  REQUIRE(with_year);
  CHECK(bsdWallNs(*with_year, kNow) == 1704067199 * kS);
  CHECK_FALSE(scanBsdTime("Mar 10 1:59:00"));
  CHECK_FALSE(scanBsdTime("Foo 10 11:59:00"));
  CHECK_FALSE(scanBsdTime("March 10 11:59:00"));
  CHECK_FALSE(scanBsdTime("Mar 32 11:59:00"));
  CHECK_FALSE(scanBsdTime("Mar 10 11:59"));
  auto feb30 = scanBsdTime("Feb 30 11:59:00");
  REQUIRE(feb30);
  CHECK_FALSE(bsdWallNs(*feb30, kNow));
}

TEST_CASE("parsers/time: year inference puts a date at most a day in the future") {
  // Now is 2024-03-10T12:00:00Z.
  CHECK(inferYear(3, 10, 12, 0, 0, kNow) == 2024);
  CHECK(inferYear(3, 11, 11, 59, 0, kNow) == 2024);  // within a day ahead: clock skew
  CHECK(inferYear(3, 11, 12, 0, 1, kNow) == 2023);   // more than a day ahead: last year
  CHECK(inferYear(12, 31, 23, 59, 59, kNow) == 2023);
  // A December message read on 1 January.
  const std::int64_t jan1 = 1704067800 * kS;  // 2024-01-01T00:10:00Z
  CHECK(inferYear(12, 31, 23, 59, 0, jan1) == 2023);
  CHECK(inferYear(1, 1, 0, 30, 0, jan1) == 2024);
  // 29 February in a year that has none: the previous year, when it has one.
  const std::int64_t y2025 = 1741608000 * kS;  // 2025-03-10T12:00:00Z
  CHECK(inferYear(2, 29, 0, 0, 0, y2025) == 2024);
}

TEST_CASE("parsers/time: default zones for dates without an offset") {
  CHECK(DefaultZone::parse("UTC").has_value());
  CHECK(DefaultZone::parse("utc")->isUtc());
  CHECK(DefaultZone::parse("+02:00")->toUtc(kNow) == kNow - 7200 * kS);
  CHECK(DefaultZone::parse("-0530")->toUtc(kNow) == kNow + 19800 * kS);
  CHECK(DefaultZone::parse("+5")->toUtc(kNow) == kNow - 5 * 3600 * kS);
  CHECK_FALSE(DefaultZone::parse("Europe/Berlin"));
  CHECK_FALSE(DefaultZone::parse("+25:00"));
  CHECK_FALSE(DefaultZone::parse(""));
  // "local" follows TZ; with TZ=UTC it is UTC.
  const char* old_tz = std::getenv("TZ");
  const std::string saved = old_tz != nullptr ? old_tz : "";
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  CHECK(DefaultZone::local().toUtc(kNow) == kNow);
  ::setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
  ::tzset();
  CHECK(DefaultZone::local().toUtc(kNow) == kNow - 3600 * kS);                     // winter
  CHECK(DefaultZone::local().toUtc(1720612800 * kS) == (1720612800 - 7200) * kS);  // summer
  if (old_tz != nullptr) {
    ::setenv("TZ", saved.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
}

TEST_CASE("parsers/time: strftime-like formats") {
  // nginx $time_local.
  CHECK(fmtParse("%d/%b/%Y:%H:%M:%S %z", "10/Mar/2024:13:00:00 +0100") == kNow);
  CHECK(fmtParse("%d/%b/%Y:%H:%M:%S %z", "10/Mar/2024:12:00:00 +0000") == kNow);
  // Apache error log, with weekday and fraction.
  CHECK(fmtParse("%a %b %d %H:%M:%S.%f %Y", "Sun Mar 10 12:00:00.250000 2024") == kNow + 250000000);
  CHECK(fmtParse("%F %T", "2024-03-10 12:00:00") == kNow);
  CHECK(fmtParse("%F %T", "2024-03-10 14:00:00", *DefaultZone::parse("+02:00")) == kNow);
  CHECK(fmtParse("%Y-%m-%dT%H:%M:%S.%L%z", "2024-03-10T12:00:00.5Z") == kNow + 500000000);
  CHECK(fmtParse("%D %I:%M:%S %p", "03/10/24 12:00:00 PM") == kNow);
  CHECK(fmtParse("%D %I:%M:%S %p", "03/10/24 12:00:00 am") == kNow - 12 * 3600 * kS);
  CHECK(fmtParse("%b %e %H:%M:%S", "Mar 10 12:00:00") == kNow);  // year inferred
  CHECK(fmtParse("%b %e %H:%M:%S", "Mar  9 12:00:00") == kNow - 86400 * kS);
  CHECK(fmtParse("%Y %j %H:%M", "2024 070 12:00") == kNow);
  CHECK(fmtParse("%Y %j", "2024 366") == 1735603200 * kS);  // 31 December of a leap year
  CHECK(fmtFails("%Y %j", "2023 366"));
  CHECK(fmtParse("%s", "1710072000") == kNow);
  CHECK(fmtParse("%s.%f", "1710072000.5") == kNow + 500000000);
  CHECK(fmtParse("%Y-%m-%d %H:%M:%S %Z", "2024-03-10 12:00:00 UTC") == kNow);
  CHECK(fmtParse("%Y%m%d%H%M%S", "20240310120000") == kNow - 0);
  CHECK(fmtParse("100%% %Y", "100% 2024") == 1704067200 * kS);
  CHECK(fmtParse("%Y  %m", "2024 \t 03") == 1709251200 * kS);  // spaces match any run

  CHECK(fmtFails("%d/%b/%Y:%H:%M:%S %z", "10/Mar/2024:12:00:00"));
  CHECK(fmtFails("%d/%b/%Y:%H:%M:%S %z", "10/Foo/2024:12:00:00 +0000"));
  CHECK(fmtFails("%d/%b/%Y:%H:%M:%S %z", "31/Feb/2024:12:00:00 +0000"));
  CHECK(fmtFails("%d/%b/%Y:%H:%M:%S %z", "10/Mar/2024:12:00:00 +0000 trailing"));
  CHECK(fmtFails("%H:%M:%S", "25:00:00"));
  CHECK(fmtFails("%s", "99999999999999999999"));
  CHECK(fmtFails("%Y", ""));
}

TEST_CASE("parsers/time: format shortcuts") {
  CHECK(fmtParse("iso8601", "2024-03-10T12:00:00Z") == kNow);
  CHECK(fmtParse("rfc3339", "2024-03-10T13:00:00.000+01:00") == kNow);
  CHECK(fmtParse("iso8601", "2024-03-10 14:00:00", *DefaultZone::parse("+02:00")) == kNow);
  CHECK(fmtParse("epoch", "1710072000") == kNow);
  CHECK(fmtParse("epoch", "1710072000.123456789") == kNow + 123456789);
  CHECK(fmtParse("epoch_ms", "1710072000123") == kNow + 123000000);
  CHECK(fmtParse("epoch_us", "1710072000123456") == kNow + 123456000);
  CHECK(fmtParse("epoch_ns", "1710072000123456789") == kNow + 123456789);
  CHECK(fmtParse("epoch", "-1.5") == -1500000000);
  CHECK(fmtFails("epoch", "17100x"));
  CHECK(fmtFails("epoch", ""));
  CHECK(fmtFails("epoch", "1."));
  CHECK(fmtFails("epoch", "99999999999999999"));
  CHECK(fmtFails("iso8601", "2024-03-10T12:00:00Z junk"));
}

TEST_CASE("parsers/time: bad formats are rejected when compiled") {
  auto unknown = TimeFormat::compile("%Y-%Q");
  REQUIRE_FALSE(unknown.isOk());
  CHECK(unknown.error().message == "unknown time format directive '%Q' at offset 3");
  CHECK_FALSE(TimeFormat::compile("%Y-%").isOk());
  CHECK_FALSE(TimeFormat::compile("").isOk());
}

}  // namespace
}  // namespace ingestd::parsers
