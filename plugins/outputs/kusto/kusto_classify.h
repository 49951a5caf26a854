// Pure classification of a streaming-ingest response into Delivered / Retry / Rejected
// (DESIGN.md section 4, spec section 3), with an error code and a message an operator can act on.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "agent/plugin/payload.h"

namespace ingestd::outputs::kusto {

// What the classifier needs to know about the destination, for the messages.
struct ClassifyContext {
  std::string database;
  std::string table;
  std::string mapping;
  std::string format;
  std::chrono::milliseconds max_retry_after{60000};  // Retry-After is capped at this
};

// The parts of a response the classifier looks at.
struct ResponseView {
  long status = 0;    // 0: no (complete) response
  int curl_code = 0;  // CURLcode when status is 0
  std::string_view transport_error;
  std::string_view body;
  const std::map<std::string, std::string>* headers = nullptr;  // lower-case names
};

// The OneApi error object of a Kusto error body: {"error": {"code", "message", "@message",
// "@permanent", ...}}.
struct OneApiError {
  std::string code;
  std::string message;            // "@message" when present, else "message"
  std::optional<bool> permanent;  // "@permanent"; nullopt when absent or not a boolean
};
// Nullopt when the body is not JSON or has no "error" object.
std::optional<OneApiError> parseOneApiError(std::string_view body);

// Retry-After as delay-seconds or an HTTP-date (IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37
// GMT"), relative to `now`, capped at `cap`; a date in the past gives 0. Nullopt when malformed.
std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now,
                                                         std::chrono::milliseconds cap);

// The rules:
//   200                      -> kDelivered (any other 2xx is unexpected: kRetry, as the SDKs
//                               accept exactly 200)
//   no response (status 0)   -> kRetry, error_code names the transport failure
//   408, 429                 -> kRetry
//   5xx                      -> kRetry, unless the body says "@permanent": true
//   401, 403                 -> kRetry: credentials or role assignments are fixed by an operator
//                               and take minutes to propagate; dead-lettering every block until
//                               then would turn a config slip into data loss (the output has
//                               already refreshed the token once for a 401)
//   404                      -> kRetry: the streaming endpoint is missing (streaming not enabled
//                               on the cluster, or the ingest- host) or the database/table is
//                               not there yet; both are fixed without resending from the source
//   413                      -> kRejected: this block is too large and always will be
//   3xx                      -> kRetry: we do not follow redirects; the cluster URL is wrong,
//                               which an operator fixes without losing the data
//   other 4xx                -> "@permanent": false -> kRetry; true or absent -> kRejected
// retry_after is set from Retry-After on kRetry outcomes.
SendOutcome classifyResponse(const ResponseView& response, const ClassifyContext& context,
                             std::chrono::system_clock::time_point now);

// The error_code of a transport failure: "Timeout", "ConnectFailed", "ResolveFailed",
// "TlsError", "ConnectionDropped" or "NetworkError".
std::string transportErrorCode(int curl_code);

}  // namespace ingestd::outputs::kusto
