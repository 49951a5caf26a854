// Retry delays: capped exponential backoff with full jitter, honouring Retry-After. Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace ingestd {

struct BackoffPolicy {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{60000};
};

// The upper bound of the delay before retry number `retry` (0 for the first retry):
// min(max, initial * 2^retry).
std::chrono::milliseconds backoffCeiling(const BackoffPolicy& policy, std::uint32_t retry);

// Full jitter: uniform in [0, ceiling]. When the service sent Retry-After, wait at least that
// long (capped at policy.max), plus a little jitter so many blocks do not return at once.
std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy, std::uint32_t retry,
                                       std::optional<std::chrono::milliseconds> retry_after,
                                       std::mt19937_64& rng);

}  // namespace ingestd
