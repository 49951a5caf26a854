// Unit tests for the gzip codecs: round trips for every codec and level, gunzip limits,
// multi-member input and corrupt input.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>

#include <fmt/format.h>
#include <zlib.h>

#include "agent/compress/gzip_codec.h"
#include "tests/support/skip.h"

namespace ingestd {
namespace {

int maxLevelOf(CodecKind kind) {
  switch (kind) {
    case CodecKind::kZlib: return 9;
    case CodecKind::kLibdeflate: return 12;
    case CodecKind::kIsal: return 3;
  }
  return 0;
}

std::string logLikeData(std::size_t size) {
  std::mt19937 rng(42);
  static const char* kPaths[] = {"/",      "/index.html",     "/api/v1/items?id=", "/static/app.js",
                                 "/login", "/images/logo.png"};
  static const char* kAgents[] = {"Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0",
                                  "Go-http-client/1.1"};
  std::string out;
  while (out.size() < size) {
    out += fmt::format(
        "10.{}.{}.{} - - [23/Nov/2026:23:30:{:02} +0000] \"GET {}{} HTTP/1.1\" {} {} \"-\" "
        "\"{}\"\n",
        rng() % 256, rng() % 256, rng() % 256, rng() % 60, kPaths[rng() % 6], rng() % 100000,
        (rng() % 10 == 0) ? 404 : 200, rng() % 50000, kAgents[rng() % 3]);
  }
  out.resize(size);
  return out;
}

std::string randomData(std::size_t size) {
  std::mt19937_64 rng(7);
  std::string out(size, '\0');
  for (auto& c : out) {
    c = static_cast<char>(rng());
  }
  return out;
}

// Independent check with zlib's own inflate (single member expected).
std::string zlibInflate(const std::string& gz) {
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    REQUIRE((rc == Z_OK || rc == Z_STREAM_END));
    out.append(buf, sizeof(buf) - zs.avail_out);
  } while (rc != Z_STREAM_END);
  CHECK(zs.avail_in == 0);  // exactly one member, nothing after it
  inflateEnd(&zs);
  return out;
}

void checkRoundTrip(GzipCompressor& c, const std::string& input) {
  std::string gz = "prefix";  // compress appends
  c.compress(input, gz);
  REQUIRE(gz.size() > 6 + 18);
  std::string member = gz.substr(6);
  CHECK(static_cast<unsigned char>(member[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(member[1]) == 0x8b);
  CHECK(member[2] == 8);  // deflate
  CHECK(zlibInflate(member) == input);
  std::string out;
  REQUIRE(gunzip(member, out, input.size()).isOk());
  CHECK(out == input);
  CHECK(gzipTrailerSize(member) == static_cast<std::uint32_t>(input.size()));
}

}  // namespace

TEST_CASE("gzip codec names and levels") {
  CHECK(codecName(CodecKind::kZlib) == "zlib");
  CHECK(codecName(CodecKind::kLibdeflate) == "libdeflate");
  CHECK(codecName(CodecKind::kIsal) == "isal");
  CHECK(parseCodecName("zlib") == CodecKind::kZlib);
  CHECK(parseCodecName("libdeflate") == CodecKind::kLibdeflate);
  CHECK(parseCodecName("isal") == CodecKind::kIsal);
  CHECK_FALSE(parseCodecName("gzip").has_value());
  CHECK_FALSE(parseCodecName("").has_value());

  auto kinds = availableCodecs();
  REQUIRE(!kinds.empty());
  CHECK(kinds.front() == CodecKind::kZlib);
  CHECK(codecAvailable(fastestCodec()));
#ifdef INGESTD_HAVE_ISAL
  CHECK(fastestCodec() == CodecKind::kIsal);
#endif
  for (CodecKind kind : kinds) {
    CHECK_FALSE(checkLevel(kind, 0).has_value());
    CHECK_FALSE(checkLevel(kind, maxLevelOf(kind)).has_value());
    CHECK_FALSE(checkLevel(kind, defaultLevel(kind)).has_value());
    auto too_high = checkLevel(kind, maxLevelOf(kind) + 1);
    REQUIRE(too_high.has_value());
    CHECK(too_high->find("out of range") != std::string::npos);
    CHECK(checkLevel(kind, -1).has_value());
  }
}

static void roundTripsForEveryLevel(CodecKind kind) {
  if (!codecAvailable(kind)) {
    test::skipTest(fmt::format("codec {} is not compiled into this build", codecName(kind)));
    return;
  }
  const std::string small = "hello, world\n";
  const std::string logs = logLikeData(4u << 20);
  // libdeflate's levels 10-12 (near-optimal parsing) take seconds per 4 MiB: a smaller input
  // exercises the same code.
  const std::string logs_slow = logs.substr(0, 256u << 10);
  const std::string random = randomData(1u << 20);
  for (int level = 0; level <= maxLevelOf(kind); ++level) {
    CAPTURE(level);
    auto c = GzipCompressor::create(kind, level);
    REQUIRE(c != nullptr);
    CHECK(c->kind() == kind);
    CHECK(c->level() == level);
    checkRoundTrip(*c, "");
    checkRoundTrip(*c, small);
    checkRoundTrip(*c, (kind == CodecKind::kLibdeflate && level >= 10) ? logs_slow : logs);
    checkRoundTrip(*c, random);
    checkRoundTrip(*c, small);  // reuse after a large input
  }
}

TEST_CASE("gzip round trips: zlib, every level") { roundTripsForEveryLevel(CodecKind::kZlib); }
TEST_CASE("gzip round trips: libdeflate, every level") {
  roundTripsForEveryLevel(CodecKind::kLibdeflate);
}
TEST_CASE("gzip round trips: isal, every level") { roundTripsForEveryLevel(CodecKind::kIsal); }

TEST_CASE("gzip level 1 compresses log data well") {
  const std::string logs = logLikeData(1u << 20);
  for (CodecKind kind : availableCodecs()) {
    CAPTURE(codecName(kind));
    auto c = GzipCompressor::create(kind, 1);
    std::string gz;
    c->compress(logs, gz);
    CHECK(gz.size() < logs.size() / 3);
  }
}

TEST_CASE("gunzip enforces its output limit") {
  const std::string data = logLikeData(100000);
  std::string gz;
  GzipCompressor::create(CodecKind::kZlib, 6)->compress(data, gz);
  std::string out = "x";
  CHECK(gunzip(gz, out, data.size()).isOk());
  CHECK(out == "x" + data);

  out.clear();
  Status st = gunzip(gz, out, data.size() - 1);
  CHECK_FALSE(st.isOk());
  CHECK(st.message().find("more than") != std::string::npos);
  CHECK(out.empty());  // nothing partial is left behind

  out.clear();
  CHECK_FALSE(gunzip(gz, out, 0).isOk());
}

TEST_CASE("gunzip reads every member") {
  std::string gz;
  std::string expected;
  int i = 0;
  for (CodecKind kind : availableCodecs()) {
    std::string part = fmt::format("member {} from {}\n", i++, codecName(kind));
    GzipCompressor::create(kind, 1)->compress(part, gz);
    expected += part;
  }
  GzipCompressor::create(CodecKind::kZlib, 1)->compress("", gz);  // an empty member too
  GzipCompressor::create(CodecKind::kZlib, 1)->compress("last\n", gz);
  expected += "last\n";
  std::string out;
  REQUIRE(gunzip(gz, out, 1 << 20).isOk());
  CHECK(out == expected);
  CHECK(gzipTrailerSize(gz) == 5u);
}

TEST_CASE("gunzip rejects corrupt input") {
  const std::string data = logLikeData(50000);
  std::string gz;
  GzipCompressor::create(fastestCodec(), 1)->compress(data, gz);
  std::string out;

  SUBCASE("empty") { CHECK_FALSE(gunzip("", out, 1 << 20).isOk()); }
  SUBCASE("not gzip") { CHECK_FALSE(gunzip("plain text, not gzip", out, 1 << 20).isOk()); }
  SUBCASE("truncated") {
    CHECK_FALSE(gunzip(std::string_view(gz).substr(0, gz.size() / 2), out, 1 << 20).isOk());
    CHECK_FALSE(gunzip(std::string_view(gz).substr(0, gz.size() - 1), out, 1 << 20).isOk());
  }
  SUBCASE("bad crc") {
    std::string bad = gz;
    bad[bad.size() - 6] ^= 0x55;
    CHECK_FALSE(gunzip(bad, out, 1 << 20).isOk());
  }
  SUBCASE("bad size") {
    std::string bad = gz;
    bad[bad.size() - 2] ^= 0x01;
    CHECK_FALSE(gunzip(bad, out, 1 << 20).isOk());
  }
  SUBCASE("flipped data byte") {
    std::string bad = gz;
    bad[gz.size() / 2] ^= 0xff;
    CHECK_FALSE(gunzip(bad, out, 1 << 20).isOk());
  }
  SUBCASE("trailing garbage") { CHECK_FALSE(gunzip(gz + "garbage", out, 1 << 20).isOk()); }
  CHECK(out.empty());
}

TEST_CASE("threadCompressor keeps one compressor per codec and level") {
  for (CodecKind kind : availableCodecs()) {
    GzipCompressor& a = threadCompressor(kind, 1);
    CHECK(&a == &threadCompressor(kind, 1));
    CHECK(&a != &threadCompressor(kind, 2));
    CHECK(a.kind() == kind);
    CHECK(a.level() == 1);
    std::string gz = gzipCompress(kind, 1, "record\n");
    std::string out;
    REQUIRE(gunzip(gz, out, 100).isOk());
    CHECK(out == "record\n");
  }
}

TEST_CASE("gzipTrailerSize") {
  CHECK_FALSE(gzipTrailerSize("").has_value());
  CHECK_FALSE(gzipTrailerSize("not a gzip stream at all").has_value());
  std::string gz;
  GzipCompressor::create(CodecKind::kZlib, 1)->compress(std::string(70000, 'a'), gz);
  CHECK(gzipTrailerSize(gz) == 70000u);
}

}  // namespace ingestd
