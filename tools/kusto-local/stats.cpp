// kusto-local request counters (see stats.h).
#include "stats.h"

namespace kusto_local {

void Stats::countStatus(int status) {
  if (status >= 0 && status < kStatuses) {
    by_status_[static_cast<std::size_t>(status)].fetch_add(1, std::memory_order_relaxed);
  }
}

void Stats::countIngest(std::uint64_t wire_bytes, std::uint64_t raw_bytes, std::uint64_t records) {
  ingest_requests_.fetch_add(1, std::memory_order_relaxed);
  wire_bytes_.fetch_add(wire_bytes, std::memory_order_relaxed);
  raw_bytes_.fetch_add(raw_bytes, std::memory_order_relaxed);
  records_.fetch_add(records, std::memory_order_relaxed);
}

void Stats::countDiscardTable(std::string_view database, std::string_view table,
                              std::uint64_t raw_bytes, std::uint64_t records) {
  std::string key;
  key.reserve(database.size() + table.size() + 1);
  key.append(database).append(".").append(table);
  std::lock_guard<std::mutex> lock(mu_);
  TableStats& t = discard_tables_[key];
  t.records += records;
  t.bytes += raw_bytes;
  t.requests += 1;
}

void Stats::countFault(FaultAction action) {
  faults_[static_cast<std::size_t>(action)].fetch_add(1, std::memory_order_relaxed);
}

nlohmann::json Stats::toJson(const std::map<std::string, TableStats>& engine_tables) const {
  nlohmann::json by_status = nlohmann::json::object();
  for (int s = 0; s < kStatuses; ++s) {
    std::uint64_t n = by_status_[static_cast<std::size_t>(s)].load(std::memory_order_relaxed);
    if (n != 0) {
      by_status[std::to_string(s)] = n;
    }
  }
  nlohmann::json faults = nlohmann::json::object();
  for (FaultAction a :
       {FaultAction::kThrottle, FaultAction::kError500, FaultAction::kError503,
        FaultAction::kDropBeforeStore, FaultAction::kDropAfterStore, FaultAction::kFailTable}) {
    faults[faultName(a)] = faults_[static_cast<std::size_t>(a)].load(std::memory_order_relaxed);
  }
  std::map<std::string, TableStats> tables = engine_tables;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, t] : discard_tables_) {
      TableStats& sum = tables[name];
      sum.records += t.records;
      sum.bytes += t.bytes;
      sum.requests += t.requests;
    }
  }
  nlohmann::json tables_json = nlohmann::json::object();
  for (const auto& [name, t] : tables) {
    tables_json[name] = {{"records", t.records}, {"bytes", t.bytes}, {"requests", t.requests}};
  }
  return {{"requests_by_status", std::move(by_status)},
          {"ingest",
           {{"requests", ingest_requests_.load()},
            {"wire_bytes", wire_bytes_.load()},
            {"raw_bytes", raw_bytes_.load()},
            {"records", records_.load()}}},
          {"tables", std::move(tables_json)},
          {"faults_injected", std::move(faults)}};
}

}  // namespace kusto_local
