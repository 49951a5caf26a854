// gzip back ends (zlib, libdeflate, ISA-L igzip) and a bounded multi-member gunzip.
#include "agent/compress/gzip_codec.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include <zlib.h>

#ifdef INGESTD_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif
#ifdef INGESTD_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "agent/core/assert.h"
#include "agent/core/heap.h"

namespace ingestd {

namespace {

// zlib and ISA-L count input and output in 32-bit fields; feed them at most this much at once.
constexpr std::size_t kMaxStep = std::size_t{1} << 30;

// Compressors write into a scratch buffer from compressScratchPool() and then append exactly
// the compressed bytes to `out`: no zero-filling or page faults for a fresh bound-sized buffer
// per block, and the caller's string is not left with ten times the capacity it uses (payload
// bodies live on while in flight and count against the memory budget). The buffer goes back to
// the pool after each block, so compressors of several levels share the warm ones.
class Scratch {
 public:
  // At least `want` writable bytes after `used`; returns the room.
  std::size_t grow(std::size_t used, std::size_t want) {
    if (buf_.empty()) {
      buf_ = compressScratchPool().take();
    }
    if (buf_.size() - used < want) {
      buf_.resize(used + std::max(want, buf_.size() - used));
    }
    return buf_.size() - used;
  }
  char* data() { return buf_.data(); }
  void finish(std::size_t used, std::string& out) {
    if (out.empty()) {
      // A warm body buffer when one is big enough: a fresh one faults in a page per 4 KiB.
      std::string body = compressedBodyPool().take();
      if (body.capacity() >= used) {
        out = std::move(body);
        out.clear();
      } else if (!body.empty() || body.capacity() > 0) {
        compressedBodyPool().give(std::move(body));
      }
    }
    out.append(buf_.data(), used);
    compressScratchPool().give(std::move(buf_));  // keeps nothing over 16 MiB
    buf_ = std::string();
  }

 private:
  std::string buf_;
};

class ZlibCompressor final : public GzipCompressor {
 public:
  explicit ZlibCompressor(int level) : level_(level) {
    std::memset(&zs_, 0, sizeof(zs_));
    // windowBits 15 + 16: gzip wrapper with CRC32 and ISIZE.
    int rc = deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    INGESTD_CHECK(rc == Z_OK);
  }
  ~ZlibCompressor() override { deflateEnd(&zs_); }
  ZlibCompressor(const ZlibCompressor&) = delete;
  ZlibCompressor& operator=(const ZlibCompressor&) = delete;

  CodecKind kind() const override { return CodecKind::kZlib; }
  int level() const override { return level_; }

  void compress(std::string_view in, std::string& out) override {
    INGESTD_CHECK(deflateReset(&zs_) == Z_OK);
    std::size_t used = 0;
    scratch_.grow(0, deflateBound(&zs_, static_cast<uLong>(std::min(in.size(), kMaxStep))));
    const char* next = in.data();
    std::size_t left = in.size();
    for (;;) {
      if (zs_.avail_in == 0 && left > 0) {
        std::size_t step = std::min(left, kMaxStep);
        zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(next));
        zs_.avail_in = static_cast<uInt>(step);
        next += step;
        left -= step;
      }
      std::size_t room = std::min(scratch_.grow(used, std::size_t{64} * 1024), kMaxStep);
      zs_.next_out = reinterpret_cast<Bytef*>(scratch_.data() + used);
      zs_.avail_out = static_cast<uInt>(room);
      int rc = deflate(&zs_, left == 0 ? Z_FINISH : Z_NO_FLUSH);
      used += room - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        break;
      }
      INGESTD_CHECK(rc == Z_OK || rc == Z_BUF_ERROR);
    }
    scratch_.finish(used, out);
  }

 private:
  z_stream zs_;
  Scratch scratch_;
  int level_;
};

#ifdef INGESTD_HAVE_LIBDEFLATE
class LibdeflateCompressor final : public GzipCompressor {
 public:
  explicit LibdeflateCompressor(int level)
      : compressor_(libdeflate_alloc_compressor(level)), level_(level) {
    INGESTD_CHECK(compressor_ != nullptr);
  }
  ~LibdeflateCompressor() override { libdeflate_free_compressor(compressor_); }
  LibdeflateCompressor(const LibdeflateCompressor&) = delete;
  LibdeflateCompressor& operator=(const LibdeflateCompressor&) = delete;

  CodecKind kind() const override { return CodecKind::kLibdeflate; }
  int level() const override { return level_; }

  void compress(std::string_view in, std::string& out) override {
    std::size_t bound = libdeflate_gzip_compress_bound(compressor_, in.size());
    scratch_.grow(0, bound);
    std::size_t n =
        libdeflate_gzip_compress(compressor_, in.data(), in.size(), scratch_.data(), bound);
    INGESTD_CHECK(n > 0);  // cannot fail with a bound-sized buffer
    scratch_.finish(n, out);
  }

 private:
  libdeflate_compressor* compressor_;
  Scratch scratch_;
  int level_;
};
#endif

#ifdef INGESTD_HAVE_ISAL
class IsalCompressor final : public GzipCompressor {
 public:
  explicit IsalCompressor(int level) : level_(level) {
    static constexpr std::size_t kLevelBuf[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                                ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
    level_buf_.resize(kLevelBuf[level]);
    isal_deflate_init(&zs_);
  }

  CodecKind kind() const override { return CodecKind::kIsal; }
  int level() const override { return level_; }

  void compress(std::string_view in, std::string& out) override {
    isal_deflate_reset(&zs_);
    zs_.level = static_cast<std::uint32_t>(level_);
    zs_.level_buf = level_buf_.empty() ? nullptr : level_buf_.data();
    zs_.level_buf_size = static_cast<std::uint32_t>(level_buf_.size());
    zs_.gzip_flag = IGZIP_GZIP;
    zs_.flush = NO_FLUSH;
    zs_.end_of_stream = 0;
    std::size_t used = 0;
    // Stored blocks cost 5 bytes per 64 KiB at worst; header and trailer add 18.
    scratch_.grow(0, in.size() + in.size() / 1024 + 256);
    const char* next = in.data();
    std::size_t left = in.size();
    for (;;) {
      if (zs_.avail_in == 0 && left > 0) {
        std::size_t step = std::min(left, kMaxStep);
        zs_.next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(next));
        zs_.avail_in = static_cast<std::uint32_t>(step);
        next += step;
        left -= step;
      }
      zs_.end_of_stream = left == 0 ? 1 : 0;
      std::size_t room = std::min(scratch_.grow(used, std::size_t{64} * 1024), kMaxStep);
      zs_.next_out = reinterpret_cast<std::uint8_t*>(scratch_.data() + used);
      zs_.avail_out = static_cast<std::uint32_t>(room);
      int rc = isal_deflate(&zs_);
      INGESTD_CHECK(rc == COMP_OK);
      used += room - zs_.avail_out;
      if (zs_.internal_state.state == ZSTATE_END) {
        break;
      }
    }
    scratch_.finish(used, out);
  }

 private:
  isal_zstream zs_{};
  Scratch scratch_;
  std::vector<std::uint8_t> level_buf_;
  int level_;
};
#endif

int maxLevel(CodecKind kind) {
  switch (kind) {
    case CodecKind::kZlib: return 9;
    case CodecKind::kLibdeflate: return 12;
    case CodecKind::kIsal: return 3;
  }
  return 0;
}

}  // namespace

std::string_view codecName(CodecKind kind) {
  switch (kind) {
    case CodecKind::kZlib: return "zlib";
    case CodecKind::kLibdeflate: return "libdeflate";
    case CodecKind::kIsal: return "isal";
  }
  return "unknown";
}

std::optional<CodecKind> parseCodecName(std::string_view name) {
  for (CodecKind kind : {CodecKind::kZlib, CodecKind::kLibdeflate, CodecKind::kIsal}) {
    if (name == codecName(kind)) {
      return kind;
    }
  }
  return std::nullopt;
}

std::vector<CodecKind> availableCodecs() {
  std::vector<CodecKind> kinds{CodecKind::kZlib};
#ifdef INGESTD_HAVE_LIBDEFLATE
  kinds.push_back(CodecKind::kLibdeflate);
#endif
#ifdef INGESTD_HAVE_ISAL
  kinds.push_back(CodecKind::kIsal);
#endif
  return kinds;
}

bool codecAvailable(CodecKind kind) {
  auto kinds = availableCodecs();
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

CodecKind fastestCodec() {
#if defined(INGESTD_HAVE_ISAL)
  return CodecKind::kIsal;
#elif defined(INGESTD_HAVE_LIBDEFLATE)
  return CodecKind::kLibdeflate;
#else
  return CodecKind::kZlib;
#endif
}

int defaultLevel(CodecKind /*kind*/) { return 1; }

std::optional<std::string> checkLevel(CodecKind kind, int level) {
  if (!codecAvailable(kind)) {
    std::string names;
    for (CodecKind k : availableCodecs()) {
      names += names.empty() ? "" : ", ";
      names += codecName(k);
    }
    return fmt::format("codec \"{}\" is not compiled into this build (available: {})",
                       codecName(kind), names);
  }
  if (level < 0 || level > maxLevel(kind)) {
    return fmt::format("level {} is out of range for codec \"{}\" (0..{})", level, codecName(kind),
                       maxLevel(kind));
  }
  return std::nullopt;
}

std::unique_ptr<GzipCompressor> GzipCompressor::create(CodecKind kind, int level) {
  INGESTD_CHECK(!checkLevel(kind, level).has_value());
  switch (kind) {
    case CodecKind::kZlib: return std::make_unique<ZlibCompressor>(level);
    case CodecKind::kLibdeflate:
#ifdef INGESTD_HAVE_LIBDEFLATE
      return std::make_unique<LibdeflateCompressor>(level);
#else
      break;
#endif
    case CodecKind::kIsal:
#ifdef INGESTD_HAVE_ISAL
      return std::make_unique<IsalCompressor>(level);
#else
      break;
#endif
  }
  INGESTD_CHECK(false);
  return nullptr;
}

GzipCompressor& threadCompressor(CodecKind kind, int level) {
  // A handful of (codec, level) pairs per process at most: a linear search is fine.
  thread_local std::vector<std::unique_ptr<GzipCompressor>> compressors;
  for (const auto& c : compressors) {
    if (c->kind() == kind && c->level() == level) {
      return *c;
    }
  }
  compressors.push_back(GzipCompressor::create(kind, level));
  return *compressors.back();
}

std::string gzipCompress(CodecKind kind, int level, std::string_view in) {
  std::string out;
  threadCompressor(kind, level).compress(in, out);
  return out;
}

Status gunzip(std::string_view in, std::string& out, std::size_t max_out) {
  if (in.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "gzip data is empty");
  }
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, 15 + 16) != Z_OK) {  // gzip wrapper only
    return makeError(ErrorCode::kInternal, "inflateInit2 failed");
  }
  struct Ender {
    z_stream* zs;
    ~Ender() { inflateEnd(zs); }
  } ender{&zs};

  const std::size_t start = out.size();
  std::size_t used = start;
  const char* next = in.data();
  std::size_t left = in.size();
  std::size_t step_hint = std::max<std::size_t>(std::size_t{64} * 1024, in.size() * 4);
  for (;;) {
    if (zs.avail_in == 0 && left > 0) {
      std::size_t step = std::min(left, kMaxStep);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(next));
      zs.avail_in = static_cast<uInt>(step);
      next += step;
      left -= step;
    }
    std::size_t produced = used - start;
    if (produced >= max_out && out.size() == used) {
      // No room left under the limit: one more byte of output means failure.
      out.resize(used + 1);
    } else if (out.size() == used) {
      std::size_t want = std::min(step_hint, max_out - produced);
      out.resize(used + std::max<std::size_t>(want, 1));
      step_hint = std::min(step_hint * 2, kMaxStep);
    }
    std::size_t room = std::min(out.size() - used, kMaxStep);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(room);
    int rc = inflate(&zs, Z_NO_FLUSH);
    used += room - zs.avail_out;
    if (used - start > max_out) {
      out.resize(start);
      return makeError(ErrorCode::kInvalidArgument, "gzip data expands to more than {} bytes",
                       max_out);
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 && left == 0) {
        break;
      }
      // Another member follows.
      if (inflateReset(&zs) != Z_OK) {
        out.resize(start);
        return makeError(ErrorCode::kInternal, "inflateReset failed");
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && left == 0) {
      out.resize(start);
      return makeError(ErrorCode::kDataLoss, "gzip data is truncated");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      out.resize(start);
      return makeError(ErrorCode::kDataLoss, "gzip data is corrupt: {}",
                       zs.msg != nullptr ? zs.msg : "inflate failed");
    }
  }
  out.resize(used);
  return Status::ok();
}

std::optional<std::uint32_t> gzipTrailerSize(std::string_view in) {
  // 10-byte header + at least 2 bytes of deflate data (an empty final block) + 8-byte trailer.
  if (in.size() < 20 || static_cast<unsigned char>(in[0]) != 0x1f ||
      static_cast<unsigned char>(in[1]) != 0x8b) {
    return std::nullopt;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(in.data() + in.size() - 4);
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

}  // namespace ingestd
