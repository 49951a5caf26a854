// Fast record counting for --discard mode. Counting multijson records one byte at a time was
// a third of discard mode's CPU time (profiled with perf, see docs/benchmarks.md), so this
// version looks only at the bytes that can change the count, 16 at a time.
#pragma once

#include <cstdint>
#include <string_view>

namespace kusto_local {

// Counts the records of a multijson body with exactly the result of
// Engine::countRecords("multijson", data): top-level objects, or objects directly inside a
// top-level array, skipping braces inside strings. Pure; any bytes are fine.
std::uint64_t countMultiJsonRecords(std::string_view data);

// Engine::countRecords for every format, with the fast path above for multijson.
std::uint64_t countRecordsForDiscard(std::string_view format, std::string_view data);

}  // namespace kusto_local
