// Kusto scalar type names and value conversion (ingest text/JSON -> cells -> response JSON).
#include "values.h"

#include "lexer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace kusto_local {
namespace {

constexpr std::int64_t kTicksPerDay = 86400 * kTicksPerSecond;

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<std::int64_t> parseInt64(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
  }
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

std::optional<double> parseDouble(std::string_view s) {
  s = trim(s);
  if (iequals(s, "nan")) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (iequals(s, "infinity") || iequals(s, "+infinity") || iequals(s, "inf")) {
    return std::numeric_limits<double>::infinity();
  }
  if (iequals(s, "-infinity") || iequals(s, "-inf")) {
    return -std::numeric_limits<double>::infinity();
  }
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

// Integral columns accept integral text and truncate fractional numbers that fit.
Value integralFromDouble(double d, bool is_int) {
  if (!std::isfinite(d)) {
    return {};
  }
  double t = std::trunc(d);
  double lo = is_int ? -2147483648.0 : -9223372036854775808.0;
  double hi = is_int ? 2147483647.0 : 9223372036854774784.0;
  if (t < lo || t > hi) {
    return {};
  }
  return static_cast<std::int64_t>(t);
}

Value integralFromText(std::string_view text, bool is_int) {
  if (auto v = parseInt64(text)) {
    if (is_int && (*v < std::numeric_limits<std::int32_t>::min() ||
                   *v > std::numeric_limits<std::int32_t>::max())) {
      return {};
    }
    return *v;
  }
  if (auto d = parseDouble(text)) {
    return integralFromDouble(*d, is_int);
  }
  return {};
}

std::optional<bool> parseBool(std::string_view s) {
  s = trim(s);
  if (iequals(s, "true") || s == "1") {
    return true;
  }
  if (iequals(s, "false") || s == "0") {
    return false;
  }
  return std::nullopt;
}

// Howard Hinnant's civil-calendar algorithms (public domain formulas).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2 ? 1 : 0;
}

// Reads exactly n digits at s[pos].
bool readDigits(std::string_view s, std::size_t& pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) {
    return false;
  }
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  pos += n;
  out = v;
  return true;
}

// Reads a fraction's digits (after the '.') as ticks; digits past the 7th are dropped.
std::int64_t readFractionTicks(std::string_view s, std::size_t& pos) {
  std::int64_t ticks = 0;
  int digits = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (digits < 7) {
      ticks = ticks * 10 + (s[pos] - '0');
      ++digits;
    }
    ++pos;
  }
  for (; digits < 7; ++digits) {
    ticks *= 10;
  }
  return ticks;
}

bool parseTimeOfDay(std::string_view s, std::size_t& pos, std::int64_t& ticks) {
  unsigned hh = 0;
  unsigned mm = 0;
  unsigned ss = 0;
  if (!readDigits(s, pos, 2, hh) || pos >= s.size() || s[pos] != ':') {
    return false;
  }
  ++pos;
  if (!readDigits(s, pos, 2, mm)) {
    return false;
  }
  std::int64_t frac = 0;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!readDigits(s, pos, 2, ss)) {
      return false;
    }
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      frac = readFractionTicks(s, pos);
    }
  }
  if (hh > 23 || mm > 59 || ss > 60) {
    return false;
  }
  const std::int64_t seconds = std::int64_t{hh} * 3600 + std::int64_t{mm} * 60 + ss;
  ticks = seconds * kTicksPerSecond + frac;
  return true;
}

bool parseOffset(std::string_view s, std::size_t& pos, std::int64_t& offset_ticks) {
  if (pos == s.size()) {
    return true;
  }
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
    return pos == s.size();
  }
  if (s[pos] != '+' && s[pos] != '-') {
    return false;
  }
  int sign = s[pos] == '-' ? -1 : 1;
  ++pos;
  unsigned oh = 0;
  unsigned om = 0;
  if (!readDigits(s, pos, 2, oh)) {
    return false;
  }
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
  }
  if (pos < s.size() && !readDigits(s, pos, 2, om)) {
    return false;
  }
  const std::int64_t minutes = std::int64_t{oh} * 60 + om;
  offset_ticks = sign * minutes * 60 * kTicksPerSecond;
  return pos == s.size();
}

std::optional<std::int64_t> timeSpanWithUnit(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
    ++i;
  }
  auto number = parseDouble(s.substr(0, i));
  std::string_view unit = trim(s.substr(i));
  if (!number || i == 0) {
    return std::nullopt;
  }
  double per_unit = 0;
  if (unit == "d" || iequals(unit, "day") || iequals(unit, "days")) {
    per_unit = static_cast<double>(kTicksPerDay);
  } else if (unit == "h" || iequals(unit, "hour") || iequals(unit, "hours") || unit == "hr") {
    per_unit = 3600.0 * kTicksPerSecond;
  } else if (unit == "m" || iequals(unit, "min") || iequals(unit, "minute") ||
             iequals(unit, "minutes")) {
    per_unit = 60.0 * kTicksPerSecond;
  } else if (unit == "s" || iequals(unit, "sec") || iequals(unit, "second") ||
             iequals(unit, "seconds")) {
    per_unit = static_cast<double>(kTicksPerSecond);
  } else if (unit == "ms" || iequals(unit, "milli") || iequals(unit, "millisecond") ||
             iequals(unit, "milliseconds")) {
    per_unit = 10000.0;
  } else if (iequals(unit, "microsecond") || iequals(unit, "microseconds")) {
    per_unit = 10.0;
  } else if (iequals(unit, "tick") || iequals(unit, "ticks")) {
    per_unit = 1.0;
  } else {
    return std::nullopt;
  }
  double ticks = std::round(*number * per_unit);
  if (!std::isfinite(ticks) || std::fabs(ticks) > 9.2e18) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(ticks);
}

// Length of the valid UTF-8 sequence at s[i], or 0 if it is invalid (overlong forms and
// surrogates are invalid, as in RFC 3629).
std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) {
    return 1;
  }
  std::size_t n = 0;
  unsigned lo = 0x80;
  unsigned hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80;
    hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) {
    return 0;
  }
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return n;
}

}  // namespace

std::size_t validUtf8Prefix(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t n = utf8SequenceLength(text, i);
    if (n == 0) {
      return i;
    }
    i += n;
  }
  return i;
}

std::string sanitizeUtf8(std::string_view text) {
  std::size_t valid = validUtf8Prefix(text);
  if (valid == text.size()) {
    return std::string(text);
  }
  std::string out(text.substr(0, valid));
  std::size_t i = valid;
  while (i < text.size()) {
    std::size_t n = utf8SequenceLength(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::optional<ColumnType> parseColumnType(std::string_view name) {
  struct Alias {
    std::string_view name;
    ColumnType type;
  };
  static constexpr std::array<Alias, 28> kAliases{{
      {"string", ColumnType::kString},
      {"system.string", ColumnType::kString},
      {"long", ColumnType::kLong},
      {"int64", ColumnType::kLong},
      {"system.int64", ColumnType::kLong},
      {"int", ColumnType::kInt},
      {"int32", ColumnType::kInt},
      {"system.int32", ColumnType::kInt},
      {"real", ColumnType::kReal},
      {"double", ColumnType::kReal},
      {"system.double", ColumnType::kReal},
      {"bool", ColumnType::kBool},
      {"boolean", ColumnType::kBool},
      {"system.boolean", ColumnType::kBool},
      {"datetime", ColumnType::kDateTime},
      {"date", ColumnType::kDateTime},
      {"system.datetime", ColumnType::kDateTime},
      {"timespan", ColumnType::kTimeSpan},
      {"time", ColumnType::kTimeSpan},
      {"system.timespan", ColumnType::kTimeSpan},
      {"guid", ColumnType::kGuid},
      {"uniqueid", ColumnType::kGuid},
      {"system.guid", ColumnType::kGuid},
      {"dynamic", ColumnType::kDynamic},
      {"system.object", ColumnType::kDynamic},
      {"object", ColumnType::kDynamic},
      {"decimal", ColumnType::kDecimal},
      {"system.data.sqltypes.sqldecimal", ColumnType::kDecimal},
  }};
  for (const auto& alias : kAliases) {
    if (iequals(alias.name, name)) {
      return alias.type;
    }
  }
  return std::nullopt;
}

std::string_view cslTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kString: return "string";
    case ColumnType::kLong: return "long";
    case ColumnType::kInt: return "int";
    case ColumnType::kReal: return "real";
    case ColumnType::kBool: return "bool";
    case ColumnType::kDateTime: return "datetime";
    case ColumnType::kTimeSpan: return "timespan";
    case ColumnType::kGuid: return "guid";
    case ColumnType::kDynamic: return "dynamic";
    case ColumnType::kDecimal: return "decimal";
  }
  return "string";
}

std::string_view dotNetTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kString: return "System.String";
    case ColumnType::kLong: return "System.Int64";
    case ColumnType::kInt: return "System.Int32";
    case ColumnType::kReal: return "System.Double";
    case ColumnType::kBool: return "System.SByte";
    case ColumnType::kDateTime: return "System.DateTime";
    case ColumnType::kTimeSpan: return "System.TimeSpan";
    case ColumnType::kGuid: return "System.Guid";
    case ColumnType::kDynamic: return "System.Object";
    case ColumnType::kDecimal: return "System.Data.SqlTypes.SqlDecimal";
  }
  return "System.String";
}

std::string_view v1DataTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kString: return "String";
    case ColumnType::kLong: return "Int64";
    case ColumnType::kInt: return "Int32";
    case ColumnType::kReal: return "Double";
    case ColumnType::kBool: return "Boolean";
    case ColumnType::kDateTime: return "DateTime";
    case ColumnType::kTimeSpan: return "TimeSpan";
    case ColumnType::kGuid: return "Guid";
    case ColumnType::kDynamic: return "Object";
    case ColumnType::kDecimal: return "Decimal";
  }
  return "String";
}

std::optional<std::int64_t> parseDateTimeTicks(std::string_view text) {
  std::string_view s = trim(text);
  std::size_t pos = 0;
  unsigned year = 0;
  unsigned month = 0;
  unsigned day = 0;
  if (!readDigits(s, pos, 4, year) || pos >= s.size() || (s[pos] != '-' && s[pos] != '/')) {
    return std::nullopt;
  }
  char sep = s[pos++];
  if (!readDigits(s, pos, 2, month) || pos >= s.size() || s[pos] != sep) {
    return std::nullopt;
  }
  ++pos;
  if (!readDigits(s, pos, 2, day) || month < 1 || month > 12 || day < 1 || day > 31) {
    return std::nullopt;
  }
  std::int64_t ticks = daysFromCivil(year, month, day) * kTicksPerDay;
  if (pos == s.size()) {
    return ticks;
  }
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') {
    return std::nullopt;
  }
  ++pos;
  std::int64_t time_ticks = 0;
  std::int64_t offset_ticks = 0;
  if (!parseTimeOfDay(s, pos, time_ticks) || !parseOffset(s, pos, offset_ticks)) {
    return std::nullopt;
  }
  return ticks + time_ticks - offset_ticks;
}

std::string formatDateTime(std::int64_t ticks) {
  std::int64_t days = ticks / kTicksPerDay;
  std::int64_t rem = ticks % kTicksPerDay;
  if (rem < 0) {
    rem += kTicksPerDay;
    --days;
  }
  std::int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civilFromDays(days, y, m, d);
  std::int64_t secs = rem / kTicksPerSecond;
  std::int64_t frac = rem % kTicksPerSecond;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z", y, m, d, secs / 3600,
                     (secs / 60) % 60, secs % 60, frac);
}

std::optional<std::int64_t> parseTimeSpanTicks(std::string_view text) {
  std::string_view s = trim(text);
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) {
    return std::nullopt;
  }
  std::optional<std::int64_t> ticks;
  std::size_t colon = s.find(':');
  if (colon == std::string_view::npos) {
    ticks = timeSpanWithUnit(s);
  } else {
    std::string_view head = s.substr(0, colon);
    std::int64_t days = 0;
    std::size_t dot = head.find('.');
    if (dot != std::string_view::npos) {
      auto d = parseInt64(head.substr(0, dot));
      // TimeSpan.MaxValue is about 10.7 million days; more would overflow the ticks.
      if (!d || *d < 0 || *d > 10'675'199) {
        return std::nullopt;
      }
      days = *d;
      head = head.substr(dot + 1);
    }
    std::string padded = head.size() == 1 ? "0" + std::string(head) : std::string(head);
    padded += s.substr(colon);
    std::size_t pos = 0;
    std::int64_t tod = 0;
    if (!parseTimeOfDay(padded, pos, tod) || pos != padded.size()) {
      return std::nullopt;
    }
    ticks = days * kTicksPerDay + tod;
  }
  if (!ticks) {
    return std::nullopt;
  }
  return negative ? -*ticks : *ticks;
}

std::string formatTimeSpan(std::int64_t ticks) {
  std::string out;
  std::uint64_t t = 0;
  if (ticks < 0) {
    out += '-';
    t = static_cast<std::uint64_t>(-(ticks + 1)) + 1;
  } else {
    t = static_cast<std::uint64_t>(ticks);
  }
  const auto per_day = static_cast<std::uint64_t>(kTicksPerDay);
  const auto per_sec = static_cast<std::uint64_t>(kTicksPerSecond);
  std::uint64_t days = t / per_day;
  std::uint64_t rem = t % per_day;
  if (days > 0) {
    out += fmt::format("{}.", days);
  }
  std::uint64_t secs = rem / per_sec;
  out += fmt::format("{:02}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60);
  if (rem % per_sec != 0) {
    out += fmt::format(".{:07}", rem % per_sec);
  }
  return out;
}

std::optional<std::string> normalizeGuid(std::string_view text) {
  std::string_view s = trim(text);
  if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
    s = s.substr(1, s.size() - 2);
  }
  std::string hex;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool dash_slot = s.size() == 36 && (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash_slot) {
      if (c != '-') {
        return std::nullopt;
      }
      continue;
    }
    if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return std::nullopt;
    }
    hex += c;
  }
  if (hex.size() != 32) {
    return std::nullopt;
  }
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

Value valueFromText(ColumnType type, std::string_view text) {
  if (type == ColumnType::kString) {
    return sanitizeUtf8(text);
  }
  if (trim(text).empty()) {
    return {};
  }
  switch (type) {
    case ColumnType::kLong: return integralFromText(text, false);
    case ColumnType::kInt: return integralFromText(text, true);
    case ColumnType::kReal: {
      auto d = parseDouble(text);
      return d ? Value(*d) : Value();
    }
    case ColumnType::kBool: {
      auto b = parseBool(text);
      return b ? Value(*b) : Value();
    }
    case ColumnType::kDateTime: {
      auto t = parseDateTimeTicks(text);
      return t ? Value(*t) : Value();
    }
    case ColumnType::kTimeSpan: {
      auto t = parseTimeSpanTicks(text);
      return t ? Value(*t) : Value();
    }
    case ColumnType::kGuid: {
      auto g = normalizeGuid(text);
      return g ? Value(std::move(*g)) : Value();
    }
    case ColumnType::kDynamic: {
      // Text that is valid JSON is stored as that JSON; anything else as a JSON string.
      auto parsed = nlohmann::json::parse(text, nullptr, false);
      if (parsed.is_discarded()) {
        return nlohmann::json(sanitizeUtf8(text)).dump();
      }
      return parsed.dump();
    }
    case ColumnType::kDecimal: {
      auto d = parseDouble(text);
      return d && std::isfinite(*d) ? Value(std::string(trim(text))) : Value();
    }
    case ColumnType::kString: break;
  }
  return {};
}

Value valueFromJson(ColumnType type, const nlohmann::json& json) {
  if (json.is_null()) {
    return type == ColumnType::kString ? Value(std::string()) : Value();
  }
  if (json.is_string()) {
    const auto& s = json.get_ref<const std::string&>();
    if (type == ColumnType::kDynamic) {
      return json.dump();
    }
    return valueFromText(type, s);
  }
  switch (type) {
    case ColumnType::kString:
    case ColumnType::kDynamic: return json.dump();
    case ColumnType::kLong:
    case ColumnType::kInt:
      if (json.is_number_integer()) {
        return valueFromText(type, json.dump());
      }
      if (json.is_number_float()) {
        return integralFromDouble(json.get<double>(), type == ColumnType::kInt);
      }
      return {};
    case ColumnType::kReal: return json.is_number() ? Value(json.get<double>()) : Value();
    case ColumnType::kBool:
      if (json.is_boolean()) {
        return json.get<bool>();
      }
      return json.is_number() ? Value(json.get<double>() != 0) : Value();
    case ColumnType::kTimeSpan:
      return json.is_number_integer() ? Value(json.get<std::int64_t>()) : Value();
    case ColumnType::kDecimal: return json.is_number() ? Value(json.dump()) : Value();
    case ColumnType::kDateTime:
    case ColumnType::kGuid: return {};
  }
  return {};
}

nlohmann::json valueToJson(ColumnType type, const Value& value) {
  if (isNull(value)) {
    return type == ColumnType::kString ? nlohmann::json("") : nlohmann::json();
  }
  switch (type) {
    case ColumnType::kString:
    case ColumnType::kGuid:
    case ColumnType::kDecimal: return std::get<std::string>(value);
    case ColumnType::kLong:
    case ColumnType::kInt: return std::get<std::int64_t>(value);
    case ColumnType::kReal: {
      double d = std::get<double>(value);
      if (std::isnan(d)) {
        return "NaN";
      }
      if (std::isinf(d)) {
        return d > 0 ? "Infinity" : "-Infinity";
      }
      return d;
    }
    case ColumnType::kBool: return std::get<bool>(value);
    case ColumnType::kDateTime: return formatDateTime(std::get<std::int64_t>(value));
    case ColumnType::kTimeSpan: return formatTimeSpan(std::get<std::int64_t>(value));
    case ColumnType::kDynamic: {
      auto parsed = nlohmann::json::parse(std::get<std::string>(value), nullptr, false);
      return parsed.is_discarded() ? nlohmann::json() : parsed;
    }
  }
  return {};
}

}  // namespace kusto_local
