// Unit tests for kusto-local type conversion: text and JSON to cells, cells to response JSON.
#include <doctest/doctest.h>

#include "tools/kusto-local/values.h"

using namespace kusto_local;
using CT = ColumnType;

TEST_CASE("values: column type names and aliases") {
  CHECK(parseColumnType("Int64") == CT::kLong);
  CHECK(parseColumnType("int32") == CT::kInt);
  CHECK(parseColumnType("double") == CT::kReal);
  CHECK(parseColumnType("boolean") == CT::kBool);
  CHECK(parseColumnType("System.DateTime") == CT::kDateTime);
  CHECK(parseColumnType("time") == CT::kTimeSpan);
  CHECK(parseColumnType("uniqueid") == CT::kGuid);
  CHECK_FALSE(parseColumnType("blob").has_value());
  CHECK(cslTypeName(CT::kDateTime) == "datetime");
  CHECK(dotNetTypeName(CT::kString) == "System.String");
  CHECK(v1DataTypeName(CT::kLong) == "Int64");
}

TEST_CASE("values: datetime parsing and normalized output") {
  auto t = parseDateTimeTicks("2024-01-02T03:04:05.123Z");
  REQUIRE(t.has_value());
  CHECK(formatDateTime(*t) == "2024-01-02T03:04:05.1230000Z");
  CHECK(formatDateTime(*parseDateTimeTicks("2024-01-02")) == "2024-01-02T00:00:00.0000000Z");
  CHECK(formatDateTime(*parseDateTimeTicks("2024-01-02 03:04")) == "2024-01-02T03:04:00.0000000Z");
  CHECK(formatDateTime(*parseDateTimeTicks("2024-01-02T05:04:05+02:00")) ==
        "2024-01-02T03:04:05.0000000Z");
  CHECK(formatDateTime(*parseDateTimeTicks("2024-01-02T03:04:05.123456789Z")) ==
        "2024-01-02T03:04:05.1234567Z");
  CHECK(formatDateTime(*parseDateTimeTicks("1969-12-31T23:59:59Z")) ==
        "1969-12-31T23:59:59.0000000Z");
  CHECK(*parseDateTimeTicks("1970-01-01T00:00:00Z") == 0);
  CHECK_FALSE(parseDateTimeTicks("2024-13-01").has_value());
  CHECK_FALSE(parseDateTimeTicks("yesterday").has_value());
  CHECK_FALSE(parseDateTimeTicks("2024-01-02T03:04:05Zjunk").has_value());
}

TEST_CASE("values: timespan parsing and output") {
  CHECK(formatTimeSpan(*parseTimeSpanTicks("01:02:03")) == "01:02:03");
  CHECK(formatTimeSpan(*parseTimeSpanTicks("1.02:03:04.5")) == "1.02:03:04.5000000");
  CHECK(formatTimeSpan(*parseTimeSpanTicks("-00:00:01")) == "-00:00:01");
  CHECK(*parseTimeSpanTicks("2h") == std::int64_t{2} * 3600 * kTicksPerSecond);
  CHECK(*parseTimeSpanTicks("1.5s") == 15'000'000);
  CHECK(*parseTimeSpanTicks("100ms") == 1'000'000);
  CHECK(*parseTimeSpanTicks("1d") == 86400 * kTicksPerSecond);
  CHECK_FALSE(parseTimeSpanTicks("soon").has_value());
  CHECK_FALSE(parseTimeSpanTicks("99999999999.00:00:00").has_value());  // would overflow ticks
  CHECK_FALSE(parseTimeSpanTicks("1e300d").has_value());
}

TEST_CASE("values: guid normalization") {
  CHECK(*normalizeGuid("{0A1B2C3D-0000-1111-2222-333344445555}") ==
        "0a1b2c3d-0000-1111-2222-333344445555");
  CHECK(*normalizeGuid("0a1b2c3d000011112222333344445555") ==
        "0a1b2c3d-0000-1111-2222-333344445555");
  CHECK_FALSE(normalizeGuid("not-a-guid").has_value());
}

TEST_CASE("values: text conversion, null on failure") {
  CHECK(std::get<std::int64_t>(valueFromText(CT::kLong, " 42 ")) == 42);
  CHECK(std::get<std::int64_t>(valueFromText(CT::kLong, "1.9")) == 1);
  CHECK(isNull(valueFromText(CT::kLong, "abc")));
  CHECK(isNull(valueFromText(CT::kInt, "3000000000")));
  CHECK(std::get<double>(valueFromText(CT::kReal, "2.5")) == 2.5);
  CHECK(std::get<bool>(valueFromText(CT::kBool, "TRUE")));
  CHECK_FALSE(std::get<bool>(valueFromText(CT::kBool, "0")));
  CHECK(isNull(valueFromText(CT::kBool, "maybe")));
  CHECK(std::get<std::string>(valueFromText(CT::kString, "")) == "");
  CHECK(isNull(valueFromText(CT::kLong, "")));
  CHECK(isNull(valueFromText(CT::kDateTime, "garbage")));
  CHECK(std::get<std::string>(valueFromText(CT::kDynamic, "{\"a\": 1}")) == "{\"a\":1}");
  CHECK(std::get<std::string>(valueFromText(CT::kDynamic, "plain")) == "\"plain\"");
}

TEST_CASE("values: JSON conversion") {
  using nlohmann::json;
  CHECK(std::get<std::int64_t>(valueFromJson(CT::kLong, json(7))) == 7);
  CHECK(std::get<std::int64_t>(valueFromJson(CT::kLong, json("8"))) == 8);
  CHECK(std::get<std::int64_t>(valueFromJson(CT::kLong, json(2.7))) == 2);
  CHECK(isNull(valueFromJson(CT::kLong, json::object())));
  CHECK(std::get<std::string>(valueFromJson(CT::kString, json(5))) == "5");
  CHECK(std::get<std::string>(valueFromJson(CT::kString, json::parse("{\"x\":1}"))) == "{\"x\":1}");
  CHECK(std::get<std::string>(valueFromJson(CT::kString, json())) == "");
  CHECK(isNull(valueFromJson(CT::kReal, json())));
  CHECK(std::get<bool>(valueFromJson(CT::kBool, json(true))));
  CHECK(std::get<std::string>(valueFromJson(CT::kDynamic, json::parse("[1,{\"a\":null}]"))) ==
        "[1,{\"a\":null}]");
  CHECK(std::get<std::string>(valueFromJson(CT::kDynamic, json("s"))) == "\"s\"");
  json guid("0A1B2C3D-0000-1111-2222-333344445555");
  CHECK(std::get<std::string>(valueFromJson(CT::kGuid, guid)) ==
        "0a1b2c3d-0000-1111-2222-333344445555");
}

TEST_CASE("values: response JSON") {
  using nlohmann::json;
  CHECK(valueToJson(CT::kDateTime, valueFromText(CT::kDateTime, "2024-01-02T03:04:05Z")) ==
        "2024-01-02T03:04:05.0000000Z");
  CHECK(valueToJson(CT::kTimeSpan, valueFromText(CT::kTimeSpan, "00:00:05")) == "00:00:05");
  CHECK(valueToJson(CT::kLong, Value(std::int64_t{5})) == 5);
  CHECK(valueToJson(CT::kDynamic, valueFromText(CT::kDynamic, "{\"a\":[1]}")) ==
        json::parse("{\"a\":[1]}"));
  CHECK(valueToJson(CT::kLong, Value()).is_null());
  CHECK(valueToJson(CT::kString, Value()) == "");
  CHECK(valueToJson(CT::kReal, valueFromText(CT::kReal, "NaN")) == "NaN");
}

TEST_CASE("values: invalid UTF-8 is replaced, never stored") {
  CHECK(sanitizeUtf8("plain é ✓") == "plain é ✓");
  CHECK(sanitizeUtf8("a\xff"
                     "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(sanitizeUtf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(sanitizeUtf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  CHECK(sanitizeUtf8("cut \xE2\x9C") == "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(validUtf8Prefix("ok\xff") == 2);
  // Cells built from bad bytes still serialize.
  CHECK_NOTHROW((void)valueToJson(CT::kString, valueFromText(CT::kString, "\xff\xfe")).dump());
  CHECK_NOTHROW((void)valueToJson(CT::kDynamic, valueFromText(CT::kDynamic, "\xff{")).dump());
}
