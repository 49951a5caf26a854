// Names of error codes, for messages.
#include "agent/core/status.h"

namespace ingestd {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kIo: return "I/O error";
    case ErrorCode::kNetwork: return "network error";
    case ErrorCode::kProtocol: return "protocol error";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kPermissionDenied: return "permission denied";
    case ErrorCode::kDataLoss: return "data loss";
    case ErrorCode::kInternal: return "internal error";
  }
  return "unknown";
}

}  // namespace ingestd
