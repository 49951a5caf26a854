// Unit tests for kusto-local's gzip detection and bounded inflation of request bodies.
#include <doctest/doctest.h>

#include <zlib.h>

#include <string>

#include "tools/kusto-local/gzip_body.h"

using kusto_local::GzipInflater;
using kusto_local::InflateStatus;
using kusto_local::looksLikeGzip;

namespace {

std::string gzipOf(const std::string& data) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string sampleLines(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += "{\"ts\":\"2024-01-01T00:00:00Z\",\"level\":\"info\",\"i\":" + std::to_string(i) + "}\n";
  }
  return s;
}

}  // namespace

TEST_CASE("kusto-local gzip body: detection by magic bytes only") {
  CHECK(looksLikeGzip(gzipOf("abc")));
  CHECK(looksLikeGzip(std::string("\x1f\x8b", 2)));
  CHECK_FALSE(looksLikeGzip("a,b,c\n"));
  CHECK_FALSE(looksLikeGzip(std::string("\x1f", 1)));
  CHECK_FALSE(looksLikeGzip(""));
}

TEST_CASE("kusto-local gzip body: round trip, buffer reuse across calls of different sizes") {
  GzipInflater inflater;
  for (std::size_t n : {1, 1000, 50000, 10, 200000}) {
    const std::string plain = sampleLines(n);
    REQUIRE(inflater.inflate(gzipOf(plain), std::size_t{64} * 1024 * 1024) == InflateStatus::kOk);
    CHECK(inflater.output() == plain);
  }
  REQUIRE(inflater.inflate(gzipOf(""), 100) == InflateStatus::kOk);
  CHECK(inflater.output().empty());
}

TEST_CASE("kusto-local gzip body: concatenated members are one body") {
  GzipInflater inflater;
  const std::string body = gzipOf("first\n") + gzipOf("second\n");
  REQUIRE(inflater.inflate(body, 1000) == InflateStatus::kOk);
  CHECK(inflater.output() == "first\nsecond\n");
}

TEST_CASE("kusto-local gzip body: the output limit is hard, exactly-at-limit is fine") {
  GzipInflater inflater;
  const std::string plain(100000, 'x');  // compresses to a few hundred bytes
  const std::string gz = gzipOf(plain);
  CHECK(inflater.inflate(gz, plain.size()) == InflateStatus::kOk);
  CHECK(inflater.output().size() == plain.size());
  CHECK(inflater.inflate(gz, plain.size() - 1) == InflateStatus::kTooLarge);
  CHECK(inflater.inflate(gz, 10) == InflateStatus::kTooLarge);
  // A "bomb": 64 MiB of zeros never gets fully inflated with a 1 MiB limit.
  const std::string bomb = gzipOf(std::string(std::size_t{64} * 1024 * 1024, '\0'));
  CHECK(inflater.inflate(bomb, std::size_t{1024} * 1024) == InflateStatus::kTooLarge);
  // And the inflater still works afterwards.
  REQUIRE(inflater.inflate(gzipOf("ok"), 10) == InflateStatus::kOk);
  CHECK(inflater.output() == "ok");
}

TEST_CASE("kusto-local gzip body: malformed input is reported, not crashed on") {
  GzipInflater inflater;
  const std::string gz = gzipOf(sampleLines(100));
  CHECK(inflater.inflate(gz.substr(0, gz.size() / 2), 1 << 20) == InflateStatus::kMalformed);
  CHECK(inflater.inflate(gz.substr(0, gz.size() - 1), 1 << 20) == InflateStatus::kMalformed);
  std::string corrupt = gz;
  corrupt[gz.size() - 6] = static_cast<char>(corrupt[gz.size() - 6] ^ 0x55);  // CRC
  CHECK(inflater.inflate(corrupt, 1 << 20) == InflateStatus::kMalformed);
  CHECK(inflater.inflate(gz + "trailing", 1 << 20) == InflateStatus::kMalformed);
  CHECK(inflater.inflate(std::string("\x1f\x8b", 2), 1 << 20) == InflateStatus::kMalformed);
  CHECK(inflater.inflate(std::string("\x1f\x8bgarbage-garbage-garbage"), 1 << 20) ==
        InflateStatus::kMalformed);
  REQUIRE(inflater.inflate(gz, 1 << 20) == InflateStatus::kOk);
  CHECK(inflater.output() == sampleLines(100));
}
