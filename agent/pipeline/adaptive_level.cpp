// AdaptiveLevel implementation (see adaptive_level.h).
#include "agent/pipeline/adaptive_level.h"

#include "agent/core/assert.h"

namespace ingestd {

std::vector<CompressionStep> AdaptiveLevel::ladderFor(std::string_view codec) {
  const bool any = codec == "auto";
  const bool isal = codecAvailable(CodecKind::kIsal) && (any || codec == "isal");
  const bool deflate = codecAvailable(CodecKind::kLibdeflate) && (any || codec == "libdeflate");
  // Measured on nginx logs (bench_codec, docs/benchmarks.md): ISA-L 1 is the fastest by 3x;
  // libdeflate 4 and 6 buy ratio (txt 6.7 -> 8.0 -> 9.0) at 150 and 110 MB/s of log per core.
  // ISA-L 2 and 3 gain almost nothing over 1; libdeflate 9 is too slow to be worth a step.
  std::vector<CompressionStep> steps;
  if (isal) {
    steps.push_back({CodecKind::kIsal, 1});
  }
  if (deflate) {
    if (!isal) {
      steps.push_back({CodecKind::kLibdeflate, 1});
    }
    steps.push_back({CodecKind::kLibdeflate, 4});
    steps.push_back({CodecKind::kLibdeflate, 6});
  } else if (isal) {
    steps.push_back({CodecKind::kIsal, 3});
  }
  if (steps.empty()) {  // zlib only, or asked for
    steps.push_back({CodecKind::kZlib, 1});
    steps.push_back({CodecKind::kZlib, 6});
  }
  return steps;
}

AdaptiveLevel::AdaptiveLevel(std::vector<CompressionStep> steps) : steps_(std::move(steps)) {
  INGESTD_CHECK(!steps_.empty());
}

CompressionStep AdaptiveLevel::next(std::uint64_t waiting_bytes, std::uint64_t batch_bytes,
                                    std::size_t jobs_running) {
  if (waiting_bytes >= batch_bytes) {
    index_ = 0;
  } else if (waiting_bytes < batch_bytes / 4 && jobs_running == 0 && index_ + 1 < steps_.size()) {
    ++index_;
  }
  return steps_[index_];
}

}  // namespace ingestd
