// kusto-local fault decisions and their JSON settings (see faults.h).
#include "faults.h"

#include <fmt/format.h>

namespace kusto_local {
namespace {

bool readProbability(const nlohmann::json& v, double& out) {
  if (!v.is_number()) {
    return false;
  }
  out = v.get<double>();
  return true;
}

bool readInt(const nlohmann::json& v, int& out) {
  if (!v.is_number_integer()) {
    return false;
  }
  auto x = v.get<std::int64_t>();
  if (x < -1 || x > std::int64_t{24} * 3600 * 1000) {
    return false;
  }
  out = static_cast<int>(x);
  return true;
}

}  // namespace

const char* faultName(FaultAction action) {
  switch (action) {
    case FaultAction::kNone: return "none";
    case FaultAction::kThrottle: return "throttle_429";
    case FaultAction::kError500: return "error_500";
    case FaultAction::kError503: return "error_503";
    case FaultAction::kDropBeforeStore: return "drop_before_store";
    case FaultAction::kDropAfterStore: return "drop_after_store";
    case FaultAction::kFailTable: return "fail_tables";
  }
  return "none";
}

nlohmann::json FaultSettings::toJson() const {
  return {{"seed", seed},
          {"throttle_429", throttle_429},
          {"retry_after_seconds", retry_after_seconds},
          {"error_500", error_500},
          {"error_503", error_503},
          {"drop_before_store", drop_before_store},
          {"drop_after_store", drop_after_store},
          {"latency_ms", latency_ms},
          {"fail_tables", fail_tables}};
}

std::string FaultSettings::validate() const {
  const std::pair<const char*, double> probs[] = {
      {"throttle_429", throttle_429},
      {"error_500", error_500},
      {"error_503", error_503},
      {"drop_before_store", drop_before_store},
      {"drop_after_store", drop_after_store},
  };
  double sum = 0;
  for (const auto& [name, p] : probs) {
    if (!(p >= 0 && p <= 1)) {
      return fmt::format("\"{}\" must be a probability between 0 and 1", name);
    }
    sum += p;
  }
  if (sum > 1 + 1e-9) {
    return "the fault probabilities add up to more than 1";
  }
  if (retry_after_seconds < -1) {
    return "\"retry_after_seconds\" must be >= 0 (or -1 for no header)";
  }
  if (latency_ms < 0) {
    return "\"latency_ms\" must be >= 0";
  }
  return "";
}

bool FaultSettings::fromJson(const nlohmann::json& j, std::uint64_t default_seed,
                             FaultSettings& out, std::string& error) {
  if (!j.is_object()) {
    error = "the fault settings must be a JSON object";
    return false;
  }
  FaultSettings s;
  s.seed = default_seed;
  for (const auto& [key, v] : j.items()) {
    bool ok = true;
    if (key == "seed") {
      ok = v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
      if (ok) {
        s.seed = v.get<std::uint64_t>();
      }
    } else if (key == "throttle_429") {
      ok = readProbability(v, s.throttle_429);
    } else if (key == "retry_after_seconds") {
      ok = v.is_null() || readInt(v, s.retry_after_seconds);
      if (v.is_null()) {
        s.retry_after_seconds = -1;
      }
    } else if (key == "error_500") {
      ok = readProbability(v, s.error_500);
    } else if (key == "error_503") {
      ok = readProbability(v, s.error_503);
    } else if (key == "drop_before_store") {
      ok = readProbability(v, s.drop_before_store);
    } else if (key == "drop_after_store") {
      ok = readProbability(v, s.drop_after_store);
    } else if (key == "latency_ms") {
      ok = readInt(v, s.latency_ms);
    } else if (key == "fail_tables") {
      ok = v.is_array();
      for (const auto& t : ok ? v : nlohmann::json::array()) {
        if (!t.is_string() || t.get<std::string>().find('.') == std::string::npos) {
          ok = false;
          break;
        }
        s.fail_tables.insert(t.get<std::string>());
      }
    } else {
      error = fmt::format("unknown fault setting \"{}\"", key);
      return false;
    }
    if (!ok) {
      error = fmt::format("bad value for fault setting \"{}\"", key);
      return false;
    }
  }
  if (std::string problem = s.validate(); !problem.empty()) {
    error = problem;
    return false;
  }
  out = std::move(s);
  return true;
}

Faults::Faults(FaultSettings settings) { configure(std::move(settings)); }

void Faults::configure(FaultSettings settings) {
  std::lock_guard<std::mutex> lock(mu_);
  settings_ = std::move(settings);
  rng_.seed(settings_.seed);
}

FaultSettings Faults::settings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return settings_;
}

FaultAction Faults::decide(std::string_view database, std::string_view table) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!settings_.fail_tables.empty()) {
    std::string key;
    key.reserve(database.size() + table.size() + 1);
    key.append(database).append(".").append(table);
    if (settings_.fail_tables.count(key) != 0) {
      return FaultAction::kFailTable;
    }
  }
  const FaultSettings& s = settings_;
  double total =
      s.throttle_429 + s.error_500 + s.error_503 + s.drop_before_store + s.drop_after_store;
  if (total <= 0) {
    return FaultAction::kNone;
  }
  // 53 random bits -> a uniform double in [0, 1), independent of the library's distribution
  // implementation so sequences match across standard libraries.
  double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  const std::pair<double, FaultAction> bands[] = {
      {s.throttle_429, FaultAction::kThrottle},
      {s.error_500, FaultAction::kError500},
      {s.error_503, FaultAction::kError503},
      {s.drop_before_store, FaultAction::kDropBeforeStore},
      {s.drop_after_store, FaultAction::kDropAfterStore},
  };
  double edge = 0;
  for (const auto& [p, action] : bands) {
    edge += p;
    if (u < edge) {
      return action;
    }
  }
  return FaultAction::kNone;
}

}  // namespace kusto_local
