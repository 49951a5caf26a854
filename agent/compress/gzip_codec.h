// gzip compression behind one interface with three back ends (zlib, libdeflate, ISA-L igzip),
// plus a bounded gunzip for tests and size checks. Pure CPU code: runs on the worker pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/status.h"

namespace ingestd {

enum class CodecKind { kZlib, kLibdeflate, kIsal };

// "zlib", "libdeflate", "isal".
std::string_view codecName(CodecKind kind);
// The inverse of codecName(); also for codecs not compiled in (check codecAvailable()).
std::optional<CodecKind> parseCodecName(std::string_view name);
// Codecs compiled into this build (INGESTD_HAVE_ISAL / INGESTD_HAVE_LIBDEFLATE), zlib first.
std::vector<CodecKind> availableCodecs();
bool codecAvailable(CodecKind kind);
// The fastest compiled-in codec: isal > libdeflate > zlib (measured in bench/bench_codec.cpp).
CodecKind fastestCodec();
// The level we use when the config names none: 1 for every codec (speed first; the ratio of
// level 1 on log data is within a few percent of level 6 for all three).
int defaultLevel(CodecKind kind);
// Validates a level for a codec (zlib 0..9, libdeflate 0..12, isal 0..3) and that the codec is
// compiled in. Returns the error text on failure, nullopt when fine.
std::optional<std::string> checkLevel(CodecKind kind, int level);

// One per worker thread or job: reusable, not thread-safe. Holds the codec's state (tables,
// level buffers) so that repeated blocks do not allocate it again.
class GzipCompressor {
 public:
  // The codec must be available and the level valid (checkLevel); anything else is our bug.
  static std::unique_ptr<GzipCompressor> create(CodecKind kind, int level);
  virtual ~GzipCompressor() = default;

  virtual CodecKind kind() const = 0;
  virtual int level() const = 0;
  // Appends one complete gzip member (RFC 1952, with CRC32 and ISIZE) of `in` to `out`.
  virtual void compress(std::string_view in, std::string& out) = 0;
};

// The calling thread's compressor for (kind, level), created on first use and kept for the
// thread's lifetime, so worker-pool jobs need not carry one. Valid kind and level as for create().
GzipCompressor& threadCompressor(CodecKind kind, int level);

// One gzip member of `in`, compressed with threadCompressor(kind, level).
std::string gzipCompress(CodecKind kind, int level, std::string_view in);

// Decompresses all gzip members of `in` into `out` (appending), failing if the output would
// exceed max_out bytes, on corrupt or truncated data, and on trailing bytes that are not a gzip
// member. Empty input is an error.
Status gunzip(std::string_view in, std::string& out, std::size_t max_out);

// ISIZE trailer (uncompressed size mod 2^32 of the last member), for quick size checks.
// Nullopt when `in` is too short to be a gzip member or lacks the gzip magic.
std::optional<std::uint32_t> gzipTrailerSize(std::string_view in);

}  // namespace ingestd
