// ChunkTicket: a routed chunk as the outputs it was routed to share it, with what is needed to
// acknowledge it once every one of them is done with it. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "agent/plugin/record.h"

namespace ingestd {

// Shared between the outputs a chunk was routed to: the chunk is acknowledged when the last of
// them is done with it. Its records (chunk) are dropped once every output has encoded them:
// what waits for the acknowledgement is on_ack (a few bytes of positions), never the data.
struct ChunkTicket {
  // Null once every output has encoded it; the last encoder hands its data buffer back to
  // readBufferPool() (agent/core/heap.h), so the next read reuses warm pages.
  std::shared_ptr<RecordChunk> chunk;
  std::function<void()> on_ack;       // the chunk's on_ack, moved here by the router
  std::uint32_t outputs_left = 0;     // outputs that have not acknowledged it yet
  std::uint32_t encodes_left = 0;     // outputs that still hold its raw bytes
  std::uint64_t charged_bytes = 0;    // held against the memory budget until encoded
  bool failed = false;                // some records were dead-lettered, not delivered
  bool parse_errors_counted = false;  // the first output to find parse errors counts them
  std::chrono::steady_clock::time_point routed_at{};
};

}  // namespace ingestd
