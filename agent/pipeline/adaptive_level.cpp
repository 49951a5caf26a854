// AdaptiveLevel implementation (see adaptive_level.h).
#include "agent/pipeline/adaptive_level.h"

#include "agent/core/assert.h"

namespace ingestd {

std::vector<CompressionStep> AdaptiveLevel::ladderFor(std::string_view codec) {
  const bool any = codec == "auto";
  const bool isal = codecAvailable(CodecKind::kIsal) && (any || codec == "isal");
  const bool deflate = codecAvailable(CodecKind::kLibdeflate) && (any || codec == "libdeflate");
  std::vector<CompressionStep> steps;
  if (isal) {
    steps.push_back({CodecKind::kIsal, 1});
    steps.push_back({CodecKind::kIsal, 2});
  }
  if (deflate) {
    if (!isal) {
      steps.push_back({CodecKind::kLibdeflate, 1});
    }
    steps.push_back({CodecKind::kLibdeflate, 6});
    steps.push_back({CodecKind::kLibdeflate, 9});
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
