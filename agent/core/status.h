// Status and Result<T>: how expected failures (network, config, disk, bad input) travel as values.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace ingestd {

enum class ErrorCode {
  kInvalidArgument,  // bad config value, bad CLI usage
  kNotFound,
  kIo,  // file system errors
  kNetwork,
  kProtocol,     // a peer answered something we cannot use
  kUnavailable,  // try again later
  kPermissionDenied,
  kDataLoss,  // corrupt state file, unreadable checkpoint
  kInternal,
};

std::string_view errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // a sentence naming the instance / file / key involved
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit on purpose
  static Status ok() { return {}; }
  bool isOk() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  const std::string& message() const { return error_.message; }

 private:
  Error error_;
  bool ok_ = true;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  Result(Status status) : v_(status.error()) {}  // NOLINT: only for failed statuses
  bool isOk() const { return v_.index() == 0; }
  explicit operator bool() const { return isOk(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const Error& error() const { return std::get<1>(v_); }
  Status status() const { return isOk() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

template <class... Args>
Error makeError(ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  return Error{code, fmt::format(f, std::forward<Args>(args)...)};
}

}  // namespace ingestd

#define INGESTD_RETURN_IF_ERROR(expr) \
  do {                                \
    ::ingestd::Status _st = (expr);   \
    if (!_st.isOk()) {                \
      return _st.error();             \
    }                                 \
  } while (0)
