// Unit tests for kusto-local's fault settings and seeded fault decisions.
#include <doctest/doctest.h>

#include <vector>

#include "tools/kusto-local/faults.h"

using kusto_local::FaultAction;
using kusto_local::Faults;
using kusto_local::FaultSettings;

namespace {

std::vector<FaultAction> sequence(Faults& f, int n) {
  std::vector<FaultAction> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    out.push_back(f.decide("db", "t"));
  }
  return out;
}

}  // namespace

TEST_CASE("kusto-local faults: no settings, no faults") {
  Faults f;
  for (FaultAction a : sequence(f, 100)) {
    CHECK(a == FaultAction::kNone);
  }
}

TEST_CASE("kusto-local faults: a fixed seed repeats the same sequence, another seed differs") {
  FaultSettings s;
  s.seed = 7;
  s.throttle_429 = 0.3;
  s.error_500 = 0.1;
  s.error_503 = 0.1;
  s.drop_before_store = 0.05;
  s.drop_after_store = 0.05;
  Faults f(s);
  const auto first = sequence(f, 500);
  f.configure(s);
  CHECK(sequence(f, 500) == first);
  s.seed = 8;
  f.configure(s);
  CHECK(sequence(f, 500) != first);

  int counts[7] = {};
  for (FaultAction a : first) {
    counts[static_cast<int>(a)]++;
  }
  // Roughly the configured shares (deterministic for this seed, loose bounds anyway).
  CHECK(counts[static_cast<int>(FaultAction::kThrottle)] > 100);
  CHECK(counts[static_cast<int>(FaultAction::kThrottle)] < 200);
  CHECK(counts[static_cast<int>(FaultAction::kNone)] > 150);
  CHECK(counts[static_cast<int>(FaultAction::kError500)] > 20);
  CHECK(counts[static_cast<int>(FaultAction::kDropAfterStore)] > 5);
}

TEST_CASE("kusto-local faults: probability 1 always fires, fail_tables only hits its table") {
  FaultSettings s;
  s.error_503 = 1.0;
  s.fail_tables = {"db.bad"};
  Faults f(s);
  CHECK(f.decide("db", "t") == FaultAction::kError503);
  CHECK(f.decide("db", "bad") == FaultAction::kFailTable);
  CHECK(f.decide("other", "bad") == FaultAction::kError503);
}

TEST_CASE("kusto-local faults: JSON settings round trip, unknown keys and bad values refused") {
  FaultSettings s;
  std::string error;
  nlohmann::json j = {{"seed", 1},
                      {"throttle_429", 0.3},
                      {"retry_after_seconds", 2},
                      {"error_500", 0.1},
                      {"error_503", 0.1},
                      {"drop_before_store", 0.05},
                      {"drop_after_store", 0.05},
                      {"latency_ms", 50},
                      {"fail_tables", {"db.table"}}};
  REQUIRE(FaultSettings::fromJson(j, 0, s, error));
  CHECK(s.toJson() == j);
  CHECK(s.retry_after_seconds == 2);
  CHECK(s.fail_tables.count("db.table") == 1);

  FaultSettings reset;
  REQUIRE(FaultSettings::fromJson(nlohmann::json::object(), 99, reset, error));
  CHECK(reset.seed == 99);
  CHECK(reset.throttle_429 == 0);
  CHECK(reset.retry_after_seconds == -1);

  for (const nlohmann::json& bad :
       {nlohmann::json{{"throttle_429", 1.5}}, nlohmann::json{{"nope", 1}},
        nlohmann::json{{"error_500", "x"}}, nlohmann::json{{"fail_tables", {"nodot"}}},
        nlohmann::json{{"throttle_429", 0.6}, {"error_500", 0.6}},
        nlohmann::json{{"latency_ms", -5}}, nlohmann::json::array()}) {
    CAPTURE(bad.dump());
    error.clear();
    CHECK_FALSE(FaultSettings::fromJson(bad, 0, s, error));
    CHECK_FALSE(error.empty());
  }
}
