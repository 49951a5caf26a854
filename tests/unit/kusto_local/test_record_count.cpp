// Unit tests for the fast --discard record counter: it must agree with the engine's counter
// on every input, including broken JSON, escapes and braces inside strings.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "tools/kusto-local/engine.h"
#include "tools/kusto-local/record_count.h"

using kusto_local::countMultiJsonRecords;
using kusto_local::countRecordsForDiscard;
using kusto_local::Engine;

namespace {

std::uint64_t engineCount(std::string_view data) { return Engine::countRecords("multijson", data); }

}  // namespace

TEST_CASE("kusto-local record count: multijson shapes") {
  CHECK(countMultiJsonRecords("") == 0);
  CHECK(countMultiJsonRecords(R"({"a":1}{"a":2} {"a":3})") == 3);
  CHECK(countMultiJsonRecords(R"([{"a":1},{"a":{"b":2}},{"a":[{"c":3}]}])") == 3);
  CHECK(countMultiJsonRecords("{\"a\":\"}{\\\"{\"}\n{\"b\":\"\\\\\"}\n") == 2);
  CHECK(countMultiJsonRecords(R"({"s":"[{not a record}]"})") == 1);
  CHECK(countRecordsForDiscard("MultiJson", R"([{"a":1},{"a":2}])") == 2);
  CHECK(countRecordsForDiscard("csv", "a\nb\nc") == Engine::countRecords("csv", "a\nb\nc"));
}

TEST_CASE("kusto-local record count: agrees with the engine on random JSON-like input") {
  std::mt19937_64 rng(12345);
  const std::string alphabet = "\"\\{}[]ab:, \n\"\\{}";
  for (int round = 0; round < 3000; ++round) {
    std::size_t len = rng() % 200;
    std::string s;
    for (std::size_t i = 0; i < len; ++i) {
      s.push_back(alphabet[rng() % alphabet.size()]);
    }
    CAPTURE(s);
    REQUIRE(countMultiJsonRecords(s) == engineCount(s));
  }
}

TEST_CASE("kusto-local record count: agrees with the engine on log records at any offset") {
  std::string body = "[";
  for (int i = 0; i < 500; ++i) {
    body += "{\"ts\":\"2024-01-01\",\"msg\":\"path \\\\ \\\"q\\\" {x} [y] " + std::to_string(i) +
            std::string(static_cast<std::size_t>(i % 17), ' ') + "\",\"n\":" + std::to_string(i) +
            "},";
  }
  body.back() = ']';
  CHECK(countMultiJsonRecords(body) == 500);
  for (std::size_t cut = 0; cut < 64; ++cut) {
    std::string_view part(body.data() + cut, body.size() - cut);
    REQUIRE(countMultiJsonRecords(part) == engineCount(part));
  }
}
