// Tests of the pure value parsers of the config: sizes, durations, their readable forms, and the
// did-you-mean hint.
#include <doctest/doctest.h>

#include <optional>

#include "agent/plugin/config.h"

namespace ingestd {
namespace {

using std::chrono::milliseconds;

TEST_CASE("config: parseSize accepts integers with units") {
  struct Case {
    const char* text;
    std::uint64_t bytes;
  };
  const Case cases[] = {
      {"0", 0},
      {"1024", 1024},
      {"17B", 17},
      {"1KB", 1000},
      {"10MB", 10'000'000},
      {"2GB", 2'000'000'000},
      {"1TB", 1'000'000'000'000},
      {"1KiB", 1024},
      {"512KiB", std::uint64_t{512} * 1024},
      {"4MiB", 4 << 20},
      {"1GiB", 1ull << 30},
      {"2TiB", 2ull << 40},
      {"1K", 1024},
      {"3M", 3 << 20},
      {"1G", 1ull << 30},
      {"4mib", 4 << 20},
      {"4 MiB", 4 << 20},
      {"  64kb ", 64'000},
      {"007", 7},
      {"18446744073709551615", UINT64_MAX},
      {"16777215TiB", 16777215ull << 40},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto v = parseSize(c.text);
    REQUIRE(v.has_value());
    CHECK(*v == c.bytes);
  }
}

TEST_CASE("config: parseSize rejects garbage, negatives and overflow") {
  const char* bad[] = {"",
                       " ",
                       "MiB",
                       "-1",
                       "-4MiB",
                       "+4MiB",
                       "4XB",
                       "4 Mi B",
                       "4MiBs",
                       "1.5MiB",
                       "0x10",
                       "4MiB4",
                       "four",
                       "4 4",
                       "1e6",
                       "18446744073709551616",
                       "16777216TiB",
                       "99999999999999999999999KiB"};
  for (const char* text : bad) {
    CAPTURE(text);
    CHECK_FALSE(parseSize(text).has_value());
  }
}

TEST_CASE("config: parseDuration accepts units and combinations") {
  struct Case {
    const char* text;
    std::int64_t ms;
  };
  const Case cases[] = {
      {"0", 0},           {"000", 0},        {"0s", 0},
      {"0ms", 0},         {"500ms", 500},    {"5s", 5000},
      {"2m", 120000},     {"1h", 3600000},   {"1m30s", 90000},
      {"1h30m", 5400000}, {"1s500ms", 1500}, {"2h3m4s5ms", 2 * 3600000 + 3 * 60000 + 4000 + 5},
      {" 10s ", 10000},   {"90s", 90000},    {"1500ms", 1500},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto v = parseDuration(c.text);
    REQUIRE(v.has_value());
    CHECK(v->count() == c.ms);
  }
}

TEST_CASE("config: parseDuration rejects garbage, plain numbers and bad orders") {
  const char* bad[] = {"",
                       "s",
                       "5",
                       "-5s",
                       "5 s",
                       "5sec",
                       "1.5s",
                       "5S",
                       "1d",
                       "30s1m",
                       "1s1s",
                       "1m30",
                       "ms",
                       "5us",
                       "abc",
                       "1h-1m",
                       "9999999999999999999h",
                       "2562047788016h"};
  for (const char* text : bad) {
    CAPTURE(text);
    CHECK_FALSE(parseDuration(text).has_value());
  }
}

TEST_CASE("config: formatSize and formatDuration give the shortest exact form") {
  CHECK(formatSize(0) == "0B");
  CHECK(formatSize(1000) == "1000B");
  CHECK(formatSize(1024) == "1KiB");
  CHECK(formatSize(4 << 20) == "4MiB");
  CHECK(formatSize(3ull << 30) == "3GiB");
  CHECK(formatSize((4 << 20) + 1) == "4194305B");
  CHECK(formatDuration(milliseconds(0)) == "0s");
  CHECK(formatDuration(milliseconds(500)) == "500ms");
  CHECK(formatDuration(milliseconds(90000)) == "1m30s");
  CHECK(formatDuration(milliseconds(3600000)) == "1h");
  CHECK(formatDuration(milliseconds(3601500)) == "1h1s500ms");
  // What formatDuration prints, parseDuration reads back.
  for (std::int64_t ms : {1, 999, 1000, 61001, 86400000, 123456789}) {
    CHECK(parseDuration(formatDuration(milliseconds(ms))) == milliseconds(ms));
  }
}

TEST_CASE("config: didYouMean suggests close keys only") {
  std::set<std::string, std::less<>> known = {"paths", "exclude", "read_from", "max_line_bytes",
                                              "tag"};
  CHECK(didYouMean("pths", known) == std::optional<std::string>("paths"));
  CHECK(didYouMean("pahts", known) == std::optional<std::string>("paths"));  // swapped letters
  CHECK(didYouMean("Paths", known) == std::optional<std::string>("paths"));  // case only
  CHECK(didYouMean("readfrom", known) == std::optional<std::string>("read_from"));
  CHECK(didYouMean("max_line_byte", known) == std::optional<std::string>("max_line_bytes"));
  CHECK(didYouMean("tga", known) == std::optional<std::string>("tag"));
  CHECK_FALSE(didYouMean("color", known).has_value());
  CHECK_FALSE(didYouMean("x", known).has_value());
  CHECK_FALSE(didYouMean("anything", {}).has_value());
}

}  // namespace
}  // namespace ingestd
