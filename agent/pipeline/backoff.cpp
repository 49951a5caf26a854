// Retry delays (see backoff.h).
#include "agent/pipeline/backoff.h"

#include <algorithm>

namespace ingestd {

std::chrono::milliseconds backoffCeiling(const BackoffPolicy& policy, std::uint32_t retry) {
  const auto max_ms = std::max<std::int64_t>(policy.max.count(), 0);
  std::int64_t ceiling = std::max<std::int64_t>(policy.initial.count(), 1);
  for (std::uint32_t i = 0; i < retry && ceiling < max_ms; ++i) {
    ceiling *= 2;
  }
  return std::chrono::milliseconds(std::min(ceiling, max_ms));
}

std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy, std::uint32_t retry,
                                       std::optional<std::chrono::milliseconds> retry_after,
                                       std::mt19937_64& rng) {
  if (retry_after) {
    const auto base = std::clamp(*retry_after, std::chrono::milliseconds(0), policy.max);
    // Up to 10% (at most 1 s) on top, never below what the service asked for.
    const std::int64_t spread = std::min<std::int64_t>(base.count() / 10, 1000);
    std::uniform_int_distribution<std::int64_t> extra(0, spread);
    return base + std::chrono::milliseconds(extra(rng));
  }
  const auto ceiling = backoffCeiling(policy, retry);
  std::uniform_int_distribution<std::int64_t> pick(0, ceiling.count());
  return std::chrono::milliseconds(pick(rng));
}

}  // namespace ingestd
