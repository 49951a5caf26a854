// Timestamp parsing shared by the parsers: civil-date arithmetic, RFC 3339 / ISO 8601, BSD
// syslog dates, and the strftime-like TimeFormat.
#include "plugins/common/time_parse.h"

#include <time.h>

#include <array>
#include <chrono>
#include <limits>

#include <fmt/format.h>

namespace ingestd::parsers {
namespace {

// |seconds| below this keeps seconds * 1e9 plus a day of zone offset inside int64 (the years
// 1678-2261); anything beyond is not a log timestamp.
constexpr std::int64_t kMaxAbsSeconds = 9'200'000'000;
constexpr std::int64_t kNsPerDay = 86'400 * kNsPerSecond;

bool isDigit(char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Exactly `n` digits at text[pos]; advances pos.
bool fixedDigits(std::string_view text, std::size_t& pos, int n, int& value) {
  if (pos + static_cast<std::size_t>(n) > text.size()) {
    return false;
  }
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = text[pos + static_cast<std::size_t>(i)];
    if (!isDigit(c)) {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(n);
  value = v;
  return true;
}

// min..max digits at text[pos] (as many as there are, up to max); advances pos.
bool someDigits(std::string_view text, std::size_t& pos, int min, int max, int& value) {
  int v = 0;
  int n = 0;
  while (n < max && pos < text.size() && isDigit(text[pos])) {
    v = v * 10 + (text[pos] - '0');
    ++pos;
    ++n;
  }
  value = v;
  return n >= min;
}

// A fraction's digits at text[pos] (at least one) as nanoseconds; digits past 9 are skipped.
bool fractionNs(std::string_view text, std::size_t& pos, std::int64_t& ns) {
  std::int64_t v = 0;
  int n = 0;
  while (pos < text.size() && isDigit(text[pos])) {
    if (n < 9) {
      v = v * 10 + (text[pos] - '0');
    }
    ++n;
    ++pos;
  }
  for (int i = n; i < 9; ++i) {
    v *= 10;
  }
  ns = v;
  return n > 0;
}

// Z, z, ±hh, ±hh:mm, ±hhmm at text[pos]; advances pos.
bool zoneOffset(std::string_view text, std::size_t& pos, std::int32_t& offset_s) {
  if (pos >= text.size()) {
    return false;
  }
  const char c = text[pos];
  if (c == 'Z' || c == 'z') {
    ++pos;
    offset_s = 0;
    return true;
  }
  if (c != '+' && c != '-') {
    return false;
  }
  std::size_t p = pos + 1;
  int hh = 0;
  int mm = 0;
  if (!fixedDigits(text, p, 2, hh) || hh > 23) {
    return false;
  }
  if (p < text.size() && text[p] == ':') {
    ++p;
    if (!fixedDigits(text, p, 2, mm)) {
      return false;
    }
  } else {
    std::size_t q = p;
    if (fixedDigits(text, q, 2, mm)) {
      p = q;
    }
  }
  if (mm > 59) {
    return false;
  }
  offset_s = (hh * 3600 + mm * 60) * (c == '-' ? -1 : 1);
  pos = p;
  return true;
}

bool validTime(int hour, int min, int sec) {
  return hour >= 0 && hour <= 23 && min >= 0 && min <= 59 && sec >= 0 && sec <= 60;
}

constexpr std::array<std::string_view, 12> kMonths = {"january", "february", "march",
                                                      "april",   "may",      "june",
                                                      "july",    "august",   "september",
                                                      "october", "november", "december"};
constexpr std::array<std::string_view, 7> kWeekdays = {"sunday",   "monday", "tuesday", "wednesday",
                                                       "thursday", "friday", "saturday"};

// The index of the name (abbreviated to 3 letters, or full) at the start of text, or -1.
template <std::size_t N>
int nameIndex(const std::array<std::string_view, N>& names, std::string_view text,
              std::size_t& length) {
  if (text.size() < 3) {
    return -1;
  }
  for (std::size_t i = 0; i < N; ++i) {
    const std::string_view name = names[i];
    if (lower(text[0]) != name[0] || lower(text[1]) != name[1] || lower(text[2]) != name[2]) {
      continue;
    }
    std::size_t n = 3;
    while (n < name.size() && n < text.size() && lower(text[n]) == name[n]) {
      ++n;
    }
    length = n == name.size() ? n : 3;
    return static_cast<int>(i);
  }
  return -1;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

// [-]digits[.digits] as nanoseconds, `unit_ns` nanoseconds per whole unit.
std::optional<std::int64_t> parseEpoch(std::string_view text, std::int64_t unit_ns) {
  std::size_t pos = 0;
  const bool neg = !text.empty() && text[0] == '-';
  pos += neg ? 1 : 0;
  const std::size_t start = pos;
  std::int64_t whole = 0;
  const std::int64_t limit = std::numeric_limits<std::int64_t>::max() / unit_ns - 1;
  while (pos < text.size() && isDigit(text[pos])) {
    whole = whole * 10 + (text[pos] - '0');
    if (whole > limit) {
      return std::nullopt;
    }
    ++pos;
  }
  if (pos == start) {
    return std::nullopt;
  }
  std::int64_t frac = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::int64_t scale = unit_ns;
    const std::size_t fstart = pos;
    while (pos < text.size() && isDigit(text[pos])) {
      scale /= 10;
      frac += (text[pos] - '0') * scale;
      ++pos;
    }
    if (pos == fstart) {
      return std::nullopt;
    }
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  const std::int64_t ns = whole * unit_ns + frac;
  return neg ? -ns : ns;
}

}  // namespace

std::int64_t systemNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t daysFromCivil(std::int64_t year, unsigned month, unsigned day) {
  // Count from 1 March of year 0 so that the leap day ends the counting year; 400-year eras.
  const std::int64_t y = year - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;
  const std::int64_t month_from_march = (month + 9) % 12;
  const std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
  const std::int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

bool validDate(std::int64_t year, int month, int day) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) {
    return false;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int max = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= max;
}

std::optional<std::int64_t> civilToUnixNs(std::int64_t year, int month, int day, int hour, int min,
                                          int sec, std::int64_t frac_ns) {
  if (year < 1000 || year > 9999) {
    return std::nullopt;
  }
  const std::int64_t secs =
      daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86'400 +
      hour * 3600 + min * 60 + sec;
  if (secs <= -kMaxAbsSeconds || secs >= kMaxAbsSeconds) {
    return std::nullopt;
  }
  return secs * kNsPerSecond + frac_ns;
}

std::int64_t yearOf(std::int64_t unix_ns) {
  std::int64_t days = unix_ns / kNsPerDay;
  if (unix_ns % kNsPerDay < 0) {
    --days;
  }
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t day_of_era = z - era * 146097;
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t month_from_march = (5 * day_of_year + 2) / 153;
  const std::int64_t month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
  return year_of_era + era * 400 + (month <= 2 ? 1 : 0);
}

DefaultZone DefaultZone::fixed(std::int32_t offset_seconds) {
  DefaultZone z;
  z.offset_s_ = offset_seconds;
  return z;
}

DefaultZone DefaultZone::local() {
  DefaultZone z;
  z.local_ = true;
  return z;
}

std::optional<DefaultZone> DefaultZone::parse(std::string_view text) {
  if (equalsNoCase(text, "utc") || equalsNoCase(text, "z") || equalsNoCase(text, "gmt")) {
    return DefaultZone();
  }
  if (text == "local") {
    return local();
  }
  if (text.size() >= 2 && (text[0] == '+' || text[0] == '-')) {
    std::size_t pos = 0;
    std::int32_t off = 0;
    if (zoneOffset(text, pos, off) && pos == text.size()) {
      return fixed(off);
    }
    // "+5": a single-digit hour.
    if (text.size() == 2 && isDigit(text[1])) {
      return fixed((text[1] - '0') * 3600 * (text[0] == '-' ? -1 : 1));
    }
  }
  return std::nullopt;
}

std::int64_t DefaultZone::toUtc(std::int64_t wall_as_utc_ns) const {
  if (!local_) {
    return wall_as_utc_ns - static_cast<std::int64_t>(offset_s_) * kNsPerSecond;
  }
  // The offset at the wall time read as UTC is off by at most a DST step; asking again at the
  // corrected instant gives the offset in force then.
  const time_t wall = static_cast<time_t>(wall_as_utc_ns / kNsPerSecond);
  tm parts{};
  if (localtime_r(&wall, &parts) == nullptr) {
    return wall_as_utc_ns;
  }
  const time_t guess = wall - parts.tm_gmtoff;
  if (localtime_r(&guess, &parts) == nullptr) {
    return wall_as_utc_ns;
  }
  return wall_as_utc_ns - static_cast<std::int64_t>(parts.tm_gmtoff) * kNsPerSecond;
}

std::optional<ScannedTime> scanIso8601(std::string_view text) {
  std::size_t pos = 0;
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int min = 0;
  int sec = 0;
  if (!fixedDigits(text, pos, 4, year) || pos >= text.size() || text[pos] != '-') {
    return std::nullopt;
  }
  ++pos;
  if (!fixedDigits(text, pos, 2, month) || pos >= text.size() || text[pos] != '-') {
    return std::nullopt;
  }
  ++pos;
  if (!fixedDigits(text, pos, 2, day) || pos >= text.size()) {
    return std::nullopt;
  }
  const char sep = text[pos];
  if (sep != 'T' && sep != 't' && sep != ' ') {
    return std::nullopt;
  }
  ++pos;
  if (!fixedDigits(text, pos, 2, hour) || pos >= text.size() || text[pos] != ':') {
    return std::nullopt;
  }
  ++pos;
  if (!fixedDigits(text, pos, 2, min)) {
    return std::nullopt;
  }
  std::int64_t frac = 0;
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!fixedDigits(text, pos, 2, sec)) {
      return std::nullopt;
    }
    if (pos + 1 < text.size() && (text[pos] == '.' || text[pos] == ',') && isDigit(text[pos + 1])) {
      ++pos;
      (void)fractionNs(text, pos, frac);
    }
  }
  if (!validDate(year, month, day) || !validTime(hour, min, sec)) {
    return std::nullopt;
  }
  auto ns = civilToUnixNs(year, month, day, hour, min, sec, frac);
  if (!ns) {
    return std::nullopt;
  }
  ScannedTime t;
  std::int32_t off = 0;
  if (zoneOffset(text, pos, off)) {
    t.has_zone = true;
    *ns -= static_cast<std::int64_t>(off) * kNsPerSecond;
  }
  t.unix_ns = *ns;
  t.length = pos;
  return t;
}

std::optional<std::int64_t> parseRfc3339(std::string_view text) {
  auto t = scanIso8601(text);
  if (!t || !t->has_zone || t->length != text.size()) {
    return std::nullopt;
  }
  return t->unix_ns;
}

int monthFromName(std::string_view text, std::size_t& length) {
  return nameIndex(kMonths, text, length) + 1;
}

std::int64_t inferYear(int month, int day, int hour, int min, int sec, std::int64_t now_ns) {
  const std::int64_t year = yearOf(now_ns);
  if (!validDate(year, month, day)) {
    return validDate(year - 1, month, day) ? year - 1 : year;
  }
  auto t = civilToUnixNs(year, month, day, hour, min, sec, 0);
  if (t && *t > now_ns + kNsPerDay) {
    return year - 1;
  }
  return year;
}

std::optional<BsdTime> scanBsdTime(std::string_view text) {
  BsdTime t;
  std::size_t name_len = 0;
  t.month = monthFromName(text, name_len);
  if (t.month == 0 || name_len != 3) {
    return std::nullopt;
  }
  std::size_t pos = 3;
  while (pos < text.size() && text[pos] == ' ') {
    ++pos;
  }
  if (pos == 3 || !someDigits(text, pos, 1, 2, t.day) || pos >= text.size() || text[pos] != ' ') {
    return std::nullopt;
  }
  ++pos;
  {
    std::size_t p = pos;
    int y = 0;
    if (fixedDigits(text, p, 4, y) && p < text.size() && text[p] == ' ') {
      t.year = y;
      pos = p + 1;
    }
  }
  if (!fixedDigits(text, pos, 2, t.hour) || pos >= text.size() || text[pos] != ':') {
    return std::nullopt;
  }
  ++pos;
  if (!fixedDigits(text, pos, 2, t.min) || pos >= text.size() || text[pos] != ':') {
    return std::nullopt;
  }
  ++pos;
  if (!fixedDigits(text, pos, 2, t.sec)) {
    return std::nullopt;
  }
  if (pos + 1 < text.size() && text[pos] == '.' && isDigit(text[pos + 1])) {
    ++pos;
    (void)fractionNs(text, pos, t.frac_ns);
  }
  if (!validTime(t.hour, t.min, t.sec) || t.day < 1 || t.day > 31) {
    return std::nullopt;
  }
  t.length = pos;
  return t;
}

std::optional<std::int64_t> bsdWallNs(const BsdTime& t, std::int64_t now_ns) {
  const std::int64_t y = t.year ? *t.year : inferYear(t.month, t.day, t.hour, t.min, t.sec, now_ns);
  if (!validDate(y, t.month, t.day)) {
    return std::nullopt;
  }
  return civilToUnixNs(y, t.month, t.day, t.hour, t.min, t.sec, t.frac_ns);
}

// TimeFormat

namespace {

// What a strftime-like format read from a time.
struct TimeFields {
  std::optional<std::int64_t> year;
  int month = 0;  // 0: not given
  int day = 0;
  int yday = 0;
  int hour = 0;
  int min = 0;
  int sec = 0;
  std::int64_t frac = 0;
  bool hour12 = false;
  bool pm = false;
  std::optional<std::int32_t> offset;
  std::optional<std::int64_t> epoch_ns;
};

// A numeric directive at text[pos].
bool parseNumber(char directive, std::string_view text, std::size_t& pos, TimeFields& f) {
  const auto skipOneSpace = [&] {
    if (pos < text.size() && text[pos] == ' ') {
      ++pos;
    }
  };
  int v = 0;
  switch (directive) {
    case 'Y':
      if (!fixedDigits(text, pos, 4, v)) {
        return false;
      }
      f.year = v;
      return true;
    case 'y':
      if (!fixedDigits(text, pos, 2, v)) {
        return false;
      }
      f.year = v >= 69 ? 1900 + v : 2000 + v;
      return true;
    case 'm':
      skipOneSpace();
      return someDigits(text, pos, 1, 2, f.month) && f.month >= 1 && f.month <= 12;
    case 'd':
    case 'e': skipOneSpace(); return someDigits(text, pos, 1, 2, f.day) && f.day >= 1;
    case 'H': skipOneSpace(); return someDigits(text, pos, 1, 2, f.hour);
    case 'I':
      skipOneSpace();
      f.hour12 = true;
      return someDigits(text, pos, 1, 2, f.hour) && f.hour >= 1 && f.hour <= 12;
    case 'M': return someDigits(text, pos, 1, 2, f.min);
    case 'S': return someDigits(text, pos, 1, 2, f.sec);
    case 'j': return someDigits(text, pos, 1, 3, f.yday) && f.yday >= 1 && f.yday <= 366;
    case 'f':
    case 'L': return fractionNs(text, pos, f.frac);
    case 's': {
      std::size_t end = pos;
      if (end < text.size() && text[end] == '-') {
        ++end;
      }
      while (end < text.size() && isDigit(text[end])) {
        ++end;
      }
      f.epoch_ns = parseEpoch(text.substr(pos, end - pos), kNsPerSecond);
      pos = end;
      return f.epoch_ns.has_value();
    }
    default: return false;
  }
}

// A %Z zone name at text[pos]: UTC, GMT and Z set offset 0, other names are skipped.
bool parseZoneName(std::string_view text, std::size_t& pos, TimeFields& f) {
  const std::size_t start = pos;
  while (pos < text.size() &&
         ((text[pos] >= 'A' && text[pos] <= 'Z') || (text[pos] >= 'a' && text[pos] <= 'z'))) {
    ++pos;
  }
  const std::string_view name = text.substr(start, pos - start);
  if (name.empty()) {
    return false;
  }
  if (equalsNoCase(name, "utc") || equalsNoCase(name, "gmt") || equalsNoCase(name, "z")) {
    f.offset = 0;
  }
  return true;
}

// A directive that reads words or a zone at text[pos].
bool parseText(char directive, std::string_view text, std::size_t& pos, TimeFields& f) {
  std::size_t len = 0;
  switch (directive) {
    case 'b':
    case 'h':
    case 'B':
      f.month = monthFromName(text.substr(pos), len);
      pos += len;
      return f.month != 0;
    case 'a':
    case 'A':
      if (nameIndex(kWeekdays, text.substr(pos), len) < 0) {
        return false;
      }
      pos += len;
      return true;
    case 'p':
      if (pos + 2 > text.size() || lower(text[pos + 1]) != 'm' ||
          (lower(text[pos]) != 'a' && lower(text[pos]) != 'p')) {
        return false;
      }
      f.pm = lower(text[pos]) == 'p';
      pos += 2;
      return true;
    case 'z': {
      std::int32_t off = 0;
      if (!zoneOffset(text, pos, off)) {
        return false;
      }
      f.offset = off;
      return true;
    }
    case 'Z': return parseZoneName(text, pos, f);
    default: return parseNumber(directive, text, pos, f);
  }
}

// The unix time the fields describe.
std::optional<std::int64_t> fieldsToUnixNs(TimeFields& f, const DefaultZone& zone, NowFn now) {
  if (f.epoch_ns) {
    return *f.epoch_ns + f.frac;
  }
  if (f.hour12) {
    f.hour = f.hour % 12 + (f.pm ? 12 : 0);
  }
  if (!validTime(f.hour, f.min, f.sec)) {
    return std::nullopt;
  }
  if (f.month == 0 && f.yday == 0) {
    f.month = 1;
  }
  if (f.day == 0 && f.yday == 0) {
    f.day = 1;
  }
  const std::int64_t year = f.year ? *f.year
                                   : inferYear(f.month == 0 ? 1 : f.month, f.day == 0 ? 1 : f.day,
                                               f.hour, f.min, f.sec, now());
  if (f.month == 0) {
    // Day of the year only: its month and day.
    const bool leap = validDate(year, 2, 29);
    if (f.yday > (leap ? 366 : 365)) {
      return std::nullopt;
    }
    f.day = f.yday;
    f.month = 1;
    while (!validDate(year, f.month, f.day)) {
      f.day -= validDate(year, f.month, 31)   ? 31
               : validDate(year, f.month, 30) ? 30
               : leap                         ? 29
                                              : 28;
      ++f.month;
    }
  }
  if (!validDate(year, f.month, f.day)) {
    return std::nullopt;
  }
  auto ns = civilToUnixNs(year, f.month, f.day, f.hour, f.min, f.sec, f.frac);
  if (!ns) {
    return std::nullopt;
  }
  if (f.offset) {
    return *ns - static_cast<std::int64_t>(*f.offset) * kNsPerSecond;
  }
  return zone.toUtc(*ns);
}

}  // namespace

Result<TimeFormat> TimeFormat::compile(std::string_view spec) {
  TimeFormat f;
  if (spec == "iso8601" || spec == "rfc3339") {
    f.shortcut_ = Shortcut::kIso8601;
    return f;
  }
  if (spec == "epoch") {
    f.shortcut_ = Shortcut::kEpoch;
    return f;
  }
  if (spec == "epoch_ms") {
    f.shortcut_ = Shortcut::kEpochMs;
    return f;
  }
  if (spec == "epoch_us") {
    f.shortcut_ = Shortcut::kEpochUs;
    return f;
  }
  if (spec == "epoch_ns") {
    f.shortcut_ = Shortcut::kEpochNs;
    return f;
  }
  if (spec.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "an empty time format");
  }
  static constexpr std::string_view kDirectives = "YymdeHIMSjfLbhBaApzZsnt%";
  for (std::size_t i = 0; i < spec.size(); ++i) {
    const char c = spec[i];
    if (c == ' ') {
      if (f.items_.empty() || f.items_.back().directive != ' ') {
        f.items_.push_back({' ', 0});
      }
      continue;
    }
    if (c != '%') {
      f.items_.push_back({0, c});
      continue;
    }
    if (i + 1 >= spec.size()) {
      return makeError(ErrorCode::kInvalidArgument, "time format ends with a lone '%'");
    }
    const char d = spec[++i];
    std::string_view expanded;
    switch (d) {
      case 'T': expanded = "HMS"; break;
      case 'F': expanded = "Ymd"; break;
      case 'D': expanded = "mdy"; break;
      case 'R': expanded = "HM"; break;
      default: break;
    }
    if (!expanded.empty()) {
      const char sep = d == 'F' ? '-' : d == 'D' ? '/' : ':';
      for (std::size_t k = 0; k < expanded.size(); ++k) {
        if (k > 0) {
          f.items_.push_back({0, sep});
        }
        f.items_.push_back({expanded[k], 0});
      }
      continue;
    }
    if (kDirectives.find(d) == std::string_view::npos) {
      return makeError(ErrorCode::kInvalidArgument,
                       "unknown time format directive '%{}' at offset {}", d, i - 1);
    }
    if (d == '%') {
      f.items_.push_back({0, '%'});
    } else if (d == 'n' || d == 't') {
      f.items_.push_back({' ', 0});
    } else {
      f.items_.push_back({d, 0});
    }
  }
  return f;
}

std::optional<std::int64_t> TimeFormat::parse(std::string_view text, const DefaultZone& zone,
                                              NowFn now) const {
  switch (shortcut_) {
    case Shortcut::kIso8601: {
      auto t = scanIso8601(text);
      if (!t || t->length != text.size()) {
        return std::nullopt;
      }
      return t->has_zone ? t->unix_ns : zone.toUtc(t->unix_ns);
    }
    case Shortcut::kEpoch: return parseEpoch(text, kNsPerSecond);
    case Shortcut::kEpochMs: return parseEpoch(text, 1'000'000);
    case Shortcut::kEpochUs: return parseEpoch(text, 1'000);
    case Shortcut::kEpochNs: return parseEpoch(text, 1);
    case Shortcut::kNone: break;
  }
  TimeFields f;
  std::size_t pos = 0;
  for (const Item& item : items_) {
    bool ok = false;
    if (item.directive == 0) {
      ok = pos < text.size() && text[pos] == item.literal;
      pos += ok ? 1 : 0;
    } else if (item.directive == ' ') {
      const std::size_t start = pos;
      while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) {
        ++pos;
      }
      ok = pos > start;
    } else {
      ok = parseText(item.directive, text, pos, f);
    }
    if (!ok) {
      return std::nullopt;
    }
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  return fieldsToUnixNs(f, zone, now);
}

}  // namespace ingestd::parsers
