// kusto-local request counters for GET /kusto-local/stats: lock-free on the hot path (atomics)
// except per-table counters in --discard mode, which take a short mutex.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine.h"
#include "faults.h"

namespace kusto_local {

class Stats {
 public:
  void countStatus(int status);
  // A finished ingest request: bytes on the wire, bytes after decompression, records stored.
  void countIngest(std::uint64_t wire_bytes, std::uint64_t raw_bytes, std::uint64_t records);
  // --discard mode keeps per-table counters here (the engine sees nothing).
  void countDiscardTable(std::string_view database, std::string_view table, std::uint64_t raw_bytes,
                         std::uint64_t records);
  void countFault(FaultAction action);

  // {"requests_by_status", "ingest", "faults_injected"} plus "tables" from the given map
  // merged with the discard counters.
  nlohmann::json toJson(const std::map<std::string, TableStats>& engine_tables) const;

 private:
  static constexpr int kStatuses = 600;
  std::array<std::atomic<std::uint64_t>, kStatuses> by_status_{};
  std::atomic<std::uint64_t> ingest_requests_{0};
  std::atomic<std::uint64_t> wire_bytes_{0};
  std::atomic<std::uint64_t> raw_bytes_{0};
  std::atomic<std::uint64_t> records_{0};
  std::array<std::atomic<std::uint64_t>, 7> faults_{};  // indexed by FaultAction
  mutable std::mutex mu_;                               // guards discard_tables_
  std::map<std::string, TableStats, std::less<>> discard_tables_;
};

}  // namespace kusto_local
