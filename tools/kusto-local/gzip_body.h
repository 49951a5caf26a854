// Request-body gzip handling for kusto-local: recognise gzip by its magic bytes (the SDKs send
// "Content-Encoding: gzip" even on bodies that are not compressed, spec 1.4) and inflate with
// a hard limit on the output so a small "zip bomb" body cannot use unbounded memory.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace kusto_local {

// True when data starts with the gzip magic bytes 1F 8B.
bool looksLikeGzip(std::string_view data);

enum class InflateStatus {
  kOk,         // output() holds the whole decompressed body
  kTooLarge,   // the output would exceed the limit; output() is unspecified
  kMalformed,  // not valid gzip (bad header, bad data, CRC or length mismatch, truncated,
               // trailing bytes that are not another gzip member)
};

// Inflates gzip bodies (one or more concatenated members). Keeps its buffers and
// decompressor state between calls, so one instance per connection thread avoids
// reallocating for every request. Not thread-safe; cheap to move.
class GzipInflater {
 public:
  GzipInflater();
  ~GzipInflater();
  GzipInflater(GzipInflater&&) noexcept;
  GzipInflater& operator=(GzipInflater&&) noexcept;

  // Decompresses in; the output must stay within limit bytes.
  InflateStatus inflate(std::string_view in, std::size_t limit);
  // The result of the last successful inflate(); valid until the next call.
  std::string_view output() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kusto_local
