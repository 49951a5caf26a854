// kusto-local fault injection for the daemon's tests: seeded, so a test that sends the same
// requests in the same order sees the same faults. Faults apply to ingest requests only.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kusto_local {

struct FaultSettings {
  std::uint64_t seed = 0;
  double throttle_429 = 0;            // probability of 429 Too Many Requests
  int retry_after_seconds = -1;       // Retry-After on 429s; -1: no header
  double error_500 = 0;               // probability of 500 General_InternalServerError
  double error_503 = 0;               // probability of 503 ServiceUnavailable
  double drop_before_store = 0;       // probability of closing the connection, nothing stored
  double drop_after_store = 0;        // probability of storing, then closing without a response
  int latency_ms = 0;                 // added before every ingest request is handled
  std::set<std::string> fail_tables;  // "db.table": always a permanent 400

  nlohmann::json toJson() const;
  // Parses the JSON accepted by POST /kusto-local/faults. Missing keys keep their defaults
  // (seed: default_seed); unknown keys and bad values are errors (text in error).
  static bool fromJson(const nlohmann::json& j, std::uint64_t default_seed, FaultSettings& out,
                       std::string& error);
  // "" when every value is in range, else the problem.
  std::string validate() const;
};

enum class FaultAction {
  kNone,
  kThrottle,  // 429
  kError500,
  kError503,
  kDropBeforeStore,
  kDropAfterStore,
  kFailTable,  // permanent 400
};

const char* faultName(FaultAction action);

// Thread-safe.
class Faults {
 public:
  explicit Faults(FaultSettings settings = {});

  // Replaces the settings and restarts the random sequence from settings.seed.
  void configure(FaultSettings settings);
  FaultSettings settings() const;

  // The fault for one ingest request into db.table. Draws exactly one random number per
  // call when any probability is set, so the sequence depends only on the request count.
  FaultAction decide(std::string_view database, std::string_view table);

 private:
  mutable std::mutex mu_;  // guards settings_ and rng_
  FaultSettings settings_;
  std::mt19937_64 rng_;
};

}  // namespace kusto_local
