// Gzip detection and bounded inflation of request bodies (see gzip_body.h). Uses libdeflate
// when the build found it (several times faster than zlib, which matters for --discard
// benchmarks), zlib otherwise.
#include "gzip_body.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#ifdef KUSTO_LOCAL_HAVE_LIBDEFLATE
#include <libdeflate.h>
#else
#include <zlib.h>
#endif

namespace kusto_local {
namespace {

constexpr std::size_t kMinBuffer = std::size_t{64} * 1024;

// The gzip trailer's ISIZE: the uncompressed size of the last member modulo 2^32. Only a hint
// for sizing the first buffer: it is attacker-controlled and may be wrong.
std::size_t sizeHint(std::string_view in) {
  if (in.size() < 18) {
    return kMinBuffer;
  }
  auto b = reinterpret_cast<const unsigned char*>(in.data() + in.size() - 4);
  std::uint32_t isize = static_cast<std::uint32_t>(b[0]) | (static_cast<std::uint32_t>(b[1]) << 8) |
                        (static_cast<std::uint32_t>(b[2]) << 16) |
                        (static_cast<std::uint32_t>(b[3]) << 24);
  return std::max<std::size_t>(kMinBuffer, isize);
}

}  // namespace

bool looksLikeGzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

struct GzipInflater::Impl {
  std::unique_ptr<char[]> buf;  // uninitialised on purpose: filled by the decompressor
  std::size_t cap = 0;
  std::size_t size = 0;
#ifdef KUSTO_LOCAL_HAVE_LIBDEFLATE
  libdeflate_decompressor* d = nullptr;
#else
  z_stream zs{};
  bool zs_ready = false;
#endif

  Impl() {
#ifdef KUSTO_LOCAL_HAVE_LIBDEFLATE
    d = libdeflate_alloc_decompressor();
#endif
  }
  ~Impl() {
#ifdef KUSTO_LOCAL_HAVE_LIBDEFLATE
    libdeflate_free_decompressor(d);
#else
    if (zs_ready) {
      inflateEnd(&zs);
    }
#endif
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Grows the buffer to at least n bytes, keeping the first `keep` bytes.
  void reserve(std::size_t n, std::size_t keep) {
    if (n <= cap) {
      return;
    }
    std::unique_ptr<char[]> bigger(new char[n]);
    if (keep > 0) {
      std::memcpy(bigger.get(), buf.get(), keep);
    }
    buf = std::move(bigger);
    cap = n;
  }

  InflateStatus run(std::string_view in, std::size_t limit);
};

#ifdef KUSTO_LOCAL_HAVE_LIBDEFLATE

InflateStatus GzipInflater::Impl::run(std::string_view in, std::size_t limit) {
  if (d == nullptr) {
    return InflateStatus::kMalformed;
  }
  // Members are decompressed one after the other into one buffer. If a member does not fit,
  // the buffer grows (up to limit + 1, so "exactly at the limit" still succeeds) and that
  // member is decompressed again: rare after the first requests, since buffers are reused.
  reserve(std::min(sizeHint(in), limit + 1), 0);
  size = 0;
  std::size_t pos = 0;
  while (true) {
    std::size_t in_used = 0;
    std::size_t out_made = 0;
    libdeflate_result r =
        libdeflate_gzip_decompress_ex(d, in.data() + pos, in.size() - pos, buf.get() + size,
                                      cap - size, &in_used, &out_made);
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
      if (cap > limit) {
        return InflateStatus::kTooLarge;
      }
      reserve(std::min(std::max(cap * 2, kMinBuffer), limit + 1), size);
      continue;
    }
    if (r != LIBDEFLATE_SUCCESS) {
      return InflateStatus::kMalformed;
    }
    size += out_made;
    if (size > limit) {
      return InflateStatus::kTooLarge;
    }
    pos += in_used;
    if (pos == in.size()) {
      return InflateStatus::kOk;
    }
    if (!looksLikeGzip(in.substr(pos))) {
      return InflateStatus::kMalformed;
    }
  }
}

#else

InflateStatus GzipInflater::Impl::run(std::string_view in, std::size_t limit) {
  if (!zs_ready) {
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
      return InflateStatus::kMalformed;
    }
    zs_ready = true;
  } else if (inflateReset(&zs) != Z_OK) {
    return InflateStatus::kMalformed;
  }
  reserve(std::min(sizeHint(in), limit + 1), 0);
  size = 0;
  std::size_t pos = 0;
  while (true) {
    constexpr std::size_t kStep = 1u << 30;  // zlib counts in uInt
    if (size == cap) {
      if (cap > limit) {
        return InflateStatus::kTooLarge;
      }
      reserve(std::min(std::max(cap * 2, kMinBuffer), limit + 1), size);
    }
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + pos));
    zs.avail_in = static_cast<uInt>(std::min(in.size() - pos, kStep));
    zs.next_out = reinterpret_cast<Bytef*>(buf.get() + size);
    zs.avail_out = static_cast<uInt>(std::min(cap - size, kStep));
    uInt in_before = zs.avail_in;
    uInt out_before = zs.avail_out;
    int r = ::inflate(&zs, Z_NO_FLUSH);
    pos += in_before - zs.avail_in;
    size += out_before - zs.avail_out;
    if (size > limit) {
      return InflateStatus::kTooLarge;
    }
    if (r == Z_STREAM_END) {
      if (pos == in.size()) {
        return InflateStatus::kOk;
      }
      if (!looksLikeGzip(in.substr(pos)) || inflateReset(&zs) != Z_OK) {
        return InflateStatus::kMalformed;
      }
      continue;
    }
    if (r == Z_BUF_ERROR && zs.avail_out > 0) {
      return InflateStatus::kMalformed;  // no progress with room to write: input truncated
    }
    if (r != Z_OK && r != Z_BUF_ERROR) {
      return InflateStatus::kMalformed;
    }
    if (pos == in.size() && zs.avail_out > 0) {
      return InflateStatus::kMalformed;  // input ended inside a member
    }
  }
}

#endif

GzipInflater::GzipInflater() : impl_(std::make_unique<Impl>()) {}
GzipInflater::~GzipInflater() = default;
GzipInflater::GzipInflater(GzipInflater&&) noexcept = default;
GzipInflater& GzipInflater::operator=(GzipInflater&&) noexcept = default;

InflateStatus GzipInflater::inflate(std::string_view in, std::size_t limit) {
  InflateStatus s = impl_->run(in, limit);
  if (s != InflateStatus::kOk) {
    impl_->size = 0;
  }
  return s;
}

std::string_view GzipInflater::output() const {
  return std::string_view(impl_->buf.get(), impl_->size);
}

}  // namespace kusto_local
