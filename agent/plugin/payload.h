// Payload: one encoded, compressed block on its way to an output, and what came of sending it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace ingestd {

struct Payload {
  // Stable for every attempt of this block: outputs put it in request ids.
  std::string block_id;
  std::uint32_t attempt = 0;                // 0 for the first attempt
  std::shared_ptr<const std::string> body;  // gzip bytes (shared so retries don't copy)
  std::uint64_t raw_bytes = 0;              // encoded size before compression (<= batch.max_bytes)
  std::uint64_t records = 0;
};

enum class Delivery {
  kDelivered,  // acknowledged by the service (HTTP 200)
  kRetry,      // transient: send again later
  kRejected,   // permanent: never send again; the block goes to the dead-letter directory
};

struct SendOutcome {
  Delivery delivery = Delivery::kRetry;
  int http_status = 0;     // 0 when no response arrived (network error, timeout)
  std::string error_code;  // service error code (OneApi error.code) or a transport error name
  std::string message;     // a sentence for logs and the dead-letter file; never a secret
  std::optional<std::chrono::milliseconds> retry_after;  // from Retry-After, when present
};

}  // namespace ingestd
