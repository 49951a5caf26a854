// Timestamp parsing shared by the parsers (syslog, regex, cri, docker): RFC 3339 / ISO 8601,
// BSD syslog dates without a year, a strftime-like format compiled once, and the zone given to
// timestamps that carry none. Pure functions of their arguments (the current time is passed in),
// no allocation, no locale: safe to call from several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "agent/core/status.h"

namespace ingestd::parsers {

inline constexpr std::int64_t kNsPerSecond = 1'000'000'000;

// The current time (unix ns): for the year of dates that have none. Parsers take one so that
// tests can fix it; the default reads the system clock.
using NowFn = std::int64_t (*)();
std::int64_t systemNowNs();

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12).
std::int64_t daysFromCivil(std::int64_t year, unsigned month, unsigned day);
// Whether the date exists (day 1..28/29/30/31 of month 1-12).
bool validDate(std::int64_t year, int month, int day);
// Seconds of a UTC wall time into unix nanoseconds plus `frac_ns`, or nullopt when the result
// does not fit an int64 (years before 1678 or after 2261). The fields must be in range.
std::optional<std::int64_t> civilToUnixNs(std::int64_t year, int month, int day, int hour, int min,
                                          int sec, std::int64_t frac_ns);
// The year of a unix time (UTC).
std::int64_t yearOf(std::int64_t unix_ns);

// The zone of timestamps that carry none (RFC 3164 dates, time_format without %z).
class DefaultZone {
 public:
  DefaultZone() = default;  // UTC
  static DefaultZone fixed(std::int32_t offset_seconds);
  static DefaultZone local();
  // "UTC" (also "Z", "GMT"), "local" (the machine's zone, TZ as the process saw it), or a fixed
  // offset "+02:00", "-0530", "+5". nullopt for anything else.
  static std::optional<DefaultZone> parse(std::string_view text);
  // A wall time in this zone, given as if it were UTC, to real UTC.
  std::int64_t toUtc(std::int64_t wall_as_utc_ns) const;
  bool isUtc() const { return !local_ && offset_s_ == 0; }

 private:
  bool local_ = false;
  std::int32_t offset_s_ = 0;
};

struct ScannedTime {
  std::int64_t unix_ns = 0;  // UTC when has_zone, else the wall time as if it were UTC
  std::size_t length = 0;    // bytes of the text it took
  bool has_zone = false;
};

// An RFC 3339 / ISO 8601 date-time at the start of `text`:
//   YYYY-MM-DD ('T' | 't' | ' ') hh:mm[:ss[(.|,)fraction]] [Z | z | ±hh[:mm] | ±hhmm]
// Fractions take up to 9 digits (more are read and ignored). Stops at the first byte that does
// not belong; nullopt when no complete date-time is there or a field is out of range.
std::optional<ScannedTime> scanIso8601(std::string_view text);
// All of `text` as RFC 3339 with a mandatory zone (CRI and docker timestamps), unix ns.
std::optional<std::int64_t> parseRfc3339(std::string_view text);

// A BSD syslog date at the start of `text`: "Mmm dd hh:mm:ss" (dd may be space padded), with an
// optional year after the day ("Mmm dd yyyy hh:mm:ss", Cisco ASA) and an optional fraction
// (".123"). Fields are range-checked; the day against the month only once the year is known.
struct BsdTime {
  std::optional<std::int64_t> year;
  int month = 0;
  int day = 0;
  int hour = 0;
  int min = 0;
  int sec = 0;
  std::int64_t frac_ns = 0;
  std::size_t length = 0;
};
std::optional<BsdTime> scanBsdTime(std::string_view text);
// Its wall time as if UTC (the date has no zone), the year inferred from `now_ns` when it has
// none; nullopt for a day the month does not have.
std::optional<std::int64_t> bsdWallNs(const BsdTime& t, std::int64_t now_ns);

// The year of a date that has none: the current year (of `now_ns`), or the previous one when
// that would put the date more than a day in the future (a December message read in January).
std::int64_t inferYear(int month, int day, int hour, int min, int sec, std::int64_t now_ns);

// 1-12 for an English month name, abbreviated ("Jan") or full ("January"), any case; the
// length it took goes to `length`. 0 when none.
int monthFromName(std::string_view text, std::size_t& length);

// A time format compiled once from its text: strftime-like directives, or one of the
// shortcuts iso8601 / rfc3339, epoch (seconds, fraction allowed), epoch_ms, epoch_us, epoch_ns.
//
// Directives: %Y (4-digit year) %y (2-digit: 69-99 -> 19xx, else 20xx) %m %d %e %H %I %M %S
// (1-2 digits, %e may be space padded) %j (day of year) %f / %L (fraction, 1-9 digits)
// %b %h %B (month name) %a %A (weekday name, ignored) %p (AM/PM, with %I) %z (Z, ±hh, ±hh:mm,
// ±hhmm) %Z (a zone name: UTC/GMT/Z mean UTC, other names are skipped and the default zone
// applies) %s (epoch seconds) %T (%H:%M:%S) %F (%Y-%m-%d) %D (%m/%d/%y) %R (%H:%M) %n %t (white
// space) %%. A space in the format matches one or more spaces or tabs; other characters match
// themselves. Without a year the year is inferred (inferYear); without a date, 1 January.
class TimeFormat {
 public:
  // An error message (without location) when the format has an unknown or dangling directive.
  static Result<TimeFormat> compile(std::string_view spec);
  // The whole of `text` as a time, unix ns UTC; nullopt when it does not match. `now` is
  // called only for a format without a year.
  std::optional<std::int64_t> parse(std::string_view text, const DefaultZone& zone,
                                    NowFn now) const;

 private:
  enum class Shortcut : std::uint8_t { kNone, kIso8601, kEpoch, kEpochMs, kEpochUs, kEpochNs };
  struct Item {
    char directive;  // 0: literal `literal`; ' ': white space; else the directive letter
    char literal;
  };

  Shortcut shortcut_ = Shortcut::kNone;
  std::vector<Item> items_;
};

}  // namespace ingestd::parsers
