// Kusto scalar types and stored cell values: conversion from ingested text / JSON and
// rendering back to the JSON that query responses carry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace kusto_local {

enum class ColumnType : std::uint8_t {
  kString,
  kLong,
  kInt,
  kReal,
  kBool,
  kDateTime,
  kTimeSpan,
  kGuid,
  kDynamic,
  kDecimal,
};

// One stored cell. Which alternative is used depends on the column type:
// string/guid/dynamic/decimal -> std::string (dynamic holds compact JSON text),
// long/int -> int64, real -> double, bool -> bool, datetime/timespan -> int64 ticks (100 ns;
// datetime counts from the Unix epoch). monostate is null.
using Value = std::variant<std::monostate, bool, std::int64_t, double, std::string>;

inline bool isNull(const Value& v) { return std::holds_alternative<std::monostate>(v); }

// Accepts the csl names and the usual aliases (int64, int32, double, boolean, date, time,
// uniqueid, System.String, ...), any case.
std::optional<ColumnType> parseColumnType(std::string_view name);
std::string_view cslTypeName(ColumnType type);     // "string", "long", ...
std::string_view dotNetTypeName(ColumnType type);  // "System.String", "System.Int64", ...
std::string_view v1DataTypeName(ColumnType type);  // v1 "DataType": "String", "Int64", ...

// A CSV/TSV field or other text. Kusto never rejects a value it cannot convert: the cell
// becomes null instead (an empty field is "" for string columns and null otherwise).
Value valueFromText(ColumnType type, std::string_view text);
// A JSON value picked by a mapping path; same null-on-failure rule.
Value valueFromJson(ColumnType type, const nlohmann::json& json);
// The JSON a query response carries for a cell.
nlohmann::json valueToJson(ColumnType type, const Value& value);

// Datetime as 100 ns ticks since 1970-01-01. Accepts ISO 8601 dates and date-times with an
// optional fraction (any number of digits, 7 kept) and Z / +hh:mm / -hh:mm offsets.
std::optional<std::int64_t> parseDateTimeTicks(std::string_view text);
std::string formatDateTime(std::int64_t ticks);  // 2024-01-02T03:04:05.1230000Z
// Timespan: [-][d.]hh:mm[:ss[.fffffff]] or a number with a unit (1d, 2h, 30m, 10s, 5ms, ...).
std::optional<std::int64_t> parseTimeSpanTicks(std::string_view text);
std::string formatTimeSpan(std::int64_t ticks);  // [-][d.]hh:mm:ss[.fffffff]
// 8-4-4-4-12 hex (optionally in braces), lowercased; nullopt if malformed.
std::optional<std::string> normalizeGuid(std::string_view text);

// Length of the valid UTF-8 prefix of text (text.size() when all of it is valid).
std::size_t validUtf8Prefix(std::string_view text);
// text with every invalid UTF-8 sequence replaced by U+FFFD. Ingested bytes are not trusted to
// be UTF-8, and nlohmann::json refuses to serialize strings that are not.
std::string sanitizeUtf8(std::string_view text);

constexpr std::int64_t kTicksPerSecond = 10'000'000;

}  // namespace kusto_local
