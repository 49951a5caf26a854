// Handing framed records to the pipeline, for inputs without acknowledgement tickets (stream
// sockets, datagrams, stdin): one chunk stamped with the read time, counted in the input's
// records metric. Loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "agent/plugin/context.h"
#include "agent/plugin/plugin.h"

namespace ingestd::inputs {

// Pushes `records` records held in `data` (nothing when records is 0).
inline void pushRecords(RecordSink& sink, const PluginContext& ctx,
                        std::shared_ptr<const SourceInfo> source, std::string data,
                        std::uint64_t records) {
  if (records == 0) {
    return;
  }
  if (ctx.input_metrics != nullptr) {
    ctx.input_metrics->records->Increment(static_cast<double>(records));
  }
  RecordChunk chunk;
  chunk.source = std::move(source);
  chunk.data = std::move(data);
  chunk.records = records;
  chunk.time = ctx.clock.wallNow();
  sink.push(std::move(chunk));
}

}  // namespace ingestd::inputs
