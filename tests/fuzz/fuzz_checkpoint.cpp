// libFuzzer harness: the tail checkpoint decoder. Any bytes give CheckpointData or a kDataLoss
// error naming the file, never a crash or an escaped exception; what decodes re-encodes to a
// document that decodes to the same data; a valid document cut short is refused.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/checkpoint/checkpoint_file.h"

namespace {

void check(bool ok, const char* what, int line) {
  if (!ok) {
    std::fprintf(stderr, "checkpoint invariant failed: %s (line %d)\n", what, line);
    std::abort();
  }
}
#define CHECK(c) check((c), #c, __LINE__)

constexpr std::string_view kName = "fuzz.ckpt";

void checkRefused(const ingestd::Result<ingestd::CheckpointData>& r) {
  CHECK(!r.isOk());
  CHECK(r.error().code == ingestd::ErrorCode::kDataLoss);
  CHECK(r.error().message.find(kName) != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = ingestd::decodeCheckpoint(text, kName);
  if (!decoded.isOk()) {
    checkRefused(decoded);
    return 0;
  }
  const std::string again = ingestd::encodeCheckpoint(decoded.value());
  auto round = ingestd::decodeCheckpoint(again, kName);
  CHECK(round.isOk());
  CHECK(round.value() == decoded.value());
  CHECK(ingestd::encodeCheckpoint(round.value()) == again);
  // Cut the canonical document before its closing brace: a torn file must never load.
  const std::size_t cut = size % (again.size() - 1);
  checkRefused(ingestd::decodeCheckpoint(std::string_view(again).substr(0, cut), kName));
  return 0;
}
