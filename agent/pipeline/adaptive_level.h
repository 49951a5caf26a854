// AdaptiveLevel: `compression.level: adaptive`. Spends the CPU the input rate leaves idle on a
// better ratio, and gives it back as soon as it is needed for throughput.
//
// A ladder of (codec, level) steps runs from the fastest to the densest. When a batch is cut,
// the step for its block is chosen from what waits behind it:
//   - raw records of at least one more batch already wait for the encoders: the fastest step
//     (reading outruns compressing, so any denser step would cost throughput);
//   - less than a quarter of a batch waits and no other encode job is running: one step
//     denser than the last block;
//   - otherwise: the same step as the last block.
// At a steady low rate it climbs to the densest step; under full load it stays at the fastest.
// Pure; loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/compress/gzip_codec.h"

namespace ingestd {

struct CompressionStep {
  CodecKind codec = CodecKind::kZlib;
  int level = 1;
  bool operator==(const CompressionStep&) const = default;
};

class AdaptiveLevel {
 public:
  // The steps of this build for compression.codec `codec` ("auto" or a codec's name), fastest
  // first (measured with bench_codec on nginx logs, docs/benchmarks.md).
  static std::vector<CompressionStep> ladderFor(std::string_view codec);

  explicit AdaptiveLevel(std::vector<CompressionStep> steps);

  // The step for the batch just cut: `waiting_bytes` of raw records are still in the batcher,
  // `batch_bytes` is batch.max_bytes, `jobs_running` encode jobs of this output are running.
  CompressionStep next(std::uint64_t waiting_bytes, std::uint64_t batch_bytes,
                       std::size_t jobs_running);

  std::size_t index() const { return index_; }
  const std::vector<CompressionStep>& steps() const { return steps_; }

 private:
  std::vector<CompressionStep> steps_;
  std::size_t index_ = 0;
};

}  // namespace ingestd
