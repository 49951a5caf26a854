// AdaptiveLevel: denser steps while the encoders keep up, the fastest as soon as records wait.
#include <doctest/doctest.h>

#include "agent/pipeline/adaptive_level.h"

using namespace ingestd;

namespace {
constexpr std::uint64_t kBatch = 4u << 20;
}

TEST_CASE("adaptive level climbs one step per idle block and falls to the fastest under load") {
  AdaptiveLevel a({{CodecKind::kZlib, 1}, {CodecKind::kZlib, 4}, {CodecKind::kZlib, 6}});
  // A quiet output: nothing waits behind each block, no other job runs.
  CHECK(a.next(0, kBatch, 0) == CompressionStep{CodecKind::kZlib, 4});
  CHECK(a.next(1000, kBatch, 0) == CompressionStep{CodecKind::kZlib, 6});
  CHECK(a.next(0, kBatch, 0) == CompressionStep{CodecKind::kZlib, 6});  // the top holds
  // Another job is running: hold the step, do not climb.
  CHECK(a.next(kBatch / 2, kBatch, 1) == CompressionStep{CodecKind::kZlib, 6});
  // A full batch already waits: reading outruns compressing, back to the fastest at once.
  CHECK(a.next(kBatch, kBatch, 1) == CompressionStep{CodecKind::kZlib, 1});
  CHECK(a.index() == 0);
  // Part of a batch waits and nothing else runs: hold (under a quarter of a batch: climb).
  CHECK(a.next(kBatch / 2, kBatch, 0) == CompressionStep{CodecKind::kZlib, 1});
  CHECK(a.next(kBatch / 4 - 1, kBatch, 0) == CompressionStep{CodecKind::kZlib, 4});
}

TEST_CASE("adaptive ladders start at the fastest codec's level 1 and use only compiled-in codecs") {
  for (const char* codec : {"auto", "zlib", "libdeflate", "isal"}) {
    CAPTURE(codec);
    const auto steps = AdaptiveLevel::ladderFor(codec);
    REQUIRE(steps.size() >= 2);
    for (const auto& s : steps) {
      CHECK(codecAvailable(s.codec));
      CHECK_FALSE(checkLevel(s.codec, s.level).has_value());
    }
    if (std::string_view(codec) == "auto") {
      CHECK(steps.front() == CompressionStep{fastestCodec(), 1});
    }
  }
  if (codecAvailable(CodecKind::kIsal) && codecAvailable(CodecKind::kLibdeflate)) {
    // ISA-L for speed, libdeflate's higher levels for the ratio.
    const auto steps = AdaptiveLevel::ladderFor("auto");
    CHECK(steps.front().codec == CodecKind::kIsal);
    CHECK(steps.back().codec == CodecKind::kLibdeflate);
  }
}
