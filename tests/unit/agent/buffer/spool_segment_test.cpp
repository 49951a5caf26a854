// Unit tests of the disk-buffer segment format: round trip, and that truncation, flipped bytes,
// garbage and absurd lengths never lose an intact record nor return a wrong one.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <zlib.h>

#include "agent/buffer/spool_segment.h"

namespace ingestd {
namespace {

struct Extent {
  std::size_t offset = 0;
  std::size_t length = 0;
  std::size_t end() const { return offset + length; }
};

// A segment as written, with the extent of the header (index 0) and of each record after it.
struct Built {
  std::string bytes;
  std::vector<Extent> units;
  std::vector<SpoolBlock> blocks;  // in file order
  std::vector<std::size_t> block_unit;
  SpoolAck ack;
  std::size_t ack_unit = 0;
};

void addBlock(Built& s, SpoolBlock b) {
  std::size_t at = s.bytes.size();
  appendBlockRecord(s.bytes, b);
  s.units.push_back(Extent{at, s.bytes.size() - at});
  s.block_unit.push_back(s.units.size() - 1);
  s.blocks.push_back(std::move(b));
}

void addAck(Built& s, SpoolAck a) {
  std::size_t at = s.bytes.size();
  appendAckRecord(s.bytes, a);
  s.units.push_back(Extent{at, s.bytes.size() - at});
  s.ack_unit = s.units.size() - 1;
  s.ack = std::move(a);
}

Built withHeader() {
  Built s;
  s.bytes = encodeSegmentHeader(SegmentHeader{42, 1700000000123});
  s.units.push_back(Extent{0, s.bytes.size()});
  return s;
}

SpoolBlock block(std::string id, std::string body) {
  SpoolBlock b;
  b.block_id = std::move(id);
  b.output = "kusto/prod";
  b.destination = "Logs.Nginx";
  b.records = 17;
  b.raw_bytes = 4096;
  b.created_unix_ms = 1700000000456;
  b.input_positions = "tail/a:1234";
  b.body = std::move(body);
  return b;
}

std::string randomBytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) {
    c = static_cast<char>(rng() & 0xff);
  }
  return s;
}

// Header, three small blocks and one ack: a few hundred bytes, so that every cut and every
// flipped byte can be tried.
Built smallSegment() {
  Built s = withHeader();
  addBlock(s, block("0123456789abcdef-00000001", "gzip-one"));
  addBlock(s, block("0123456789abcdef-00000002", ""));
  SpoolBlock third = block("0123456789abcdef-00000003", std::string("\x1f\x8b\0\0body", 8));
  third.input_positions = std::string("\0\x01\x02", 3);
  addBlock(s, std::move(third));
  addAck(s, SpoolAck{{"0123456789abcdef-00000001", "0123456789abcdef-00000003"}});
  return s;
}

// Every byte of [0, size) belongs to exactly one of: the intact header, an intact record, a
// damaged range; damaged ranges are in order and never empty.
void checkTiling(const SegmentScan& scan, std::size_t size) {
  std::vector<Extent> all;
  if (scan.header) {
    all.push_back(Extent{0, kSegmentHeaderBytes});
  }
  for (const auto& b : scan.blocks) {
    all.push_back(Extent{b.offset, b.length});
  }
  for (const auto& a : scan.acks) {
    all.push_back(Extent{a.offset, a.length});
  }
  for (std::size_t i = 0; i < scan.damaged.size(); ++i) {
    CHECK(scan.damaged[i].length > 0);
    CHECK_FALSE(scan.damaged[i].reason.empty());
    if (i > 0) {
      CHECK(scan.damaged[i - 1].offset < scan.damaged[i].offset);
    }
    all.push_back(Extent{scan.damaged[i].offset, scan.damaged[i].length});
  }
  std::sort(all.begin(), all.end(),
            [](const Extent& a, const Extent& b) { return a.offset < b.offset; });
  std::size_t at = 0;
  for (const auto& e : all) {
    REQUIRE(e.offset == at);
    at = e.end();
  }
  CHECK(at == size);
}

std::size_t unitContaining(const Built& s, std::size_t pos) {
  for (std::size_t u = 0; u < s.units.size(); ++u) {
    if (pos >= s.units[u].offset && pos < s.units[u].end()) {
      return u;
    }
  }
  return s.units.size();
}

// A record header with the given fields and a correct header CRC (the payload CRC is whatever
// the caller says), for records the encoder would never write.
std::string rawRecordHeader(std::uint8_t kind, std::uint32_t payload_len,
                            std::uint32_t payload_crc) {
  std::string h;
  auto put32 = [&h](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      h.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
  };
  put32(kRecordMagic);
  h.push_back(static_cast<char>(kind));
  h.append(3, '\0');
  put32(payload_len);
  put32(payload_crc);
  put32(static_cast<std::uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(h.data()), static_cast<uInt>(h.size()))));
  return h;
}

std::uint32_t crcOf(std::string_view s) {
  return static_cast<std::uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

}  // namespace

TEST_CASE("spool segment: header is 32 bytes and starts with the magic") {
  std::string h = encodeSegmentHeader(SegmentHeader{7, -1});
  CHECK(h.size() == kSegmentHeaderBytes);
  CHECK(h.substr(0, 8) == "INGSPOOL");
  CHECK(h[8] == 1);  // version, little-endian
  CHECK(h[9] == 0);
  auto scan = scanSegment(h);
  REQUIRE(scan.header);
  CHECK(*scan.header == SegmentHeader{7, -1});
  CHECK(scan.damaged.empty());
  CHECK_FALSE(scan.torn_tail);
}

TEST_CASE("spool segment: round trip of blocks and an ack, offsets tile the file") {
  Built s = withHeader();
  addBlock(s, block("empty-body", ""));
  SpoolBlock binary;
  binary.block_id = std::string("id\0with\0nuls", 12);
  binary.output = std::string("\0out\xff", 5);
  binary.destination = std::string("db\0table", 8);
  binary.records = std::numeric_limits<std::uint64_t>::max();
  binary.raw_bytes = 0x0102030405060708ULL;
  binary.created_unix_ms = std::numeric_limits<std::int64_t>::min();
  binary.input_positions = std::string("\0\0\0\0\xff\xfe", 6);
  binary.body = std::string("\x1f\x8b\x08\0\0\0\0\0", 8);
  addBlock(s, binary);
  addBlock(s, block("big", randomBytes(std::size_t{1} << 20, 1)));
  addAck(s, SpoolAck{{"big", std::string("id\0with\0nuls", 12), "never-written"}});

  auto scan = scanSegment(s.bytes);
  REQUIRE(scan.header);
  CHECK(*scan.header == SegmentHeader{42, 1700000000123});
  REQUIRE(scan.blocks.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(scan.blocks[i].block == s.blocks[i]);
    CHECK(scan.blocks[i].offset == s.units[s.block_unit[i]].offset);
    CHECK(scan.blocks[i].length == s.units[s.block_unit[i]].length);
  }
  CHECK(scan.blocks[1].block.block_id.size() == 12);
  CHECK(scan.blocks[2].block.body.size() == std::size_t{1} << 20);
  REQUIRE(scan.acks.size() == 1);
  CHECK(scan.acks[0].ack == s.ack);
  CHECK(scan.acks[0].offset == s.units[s.ack_unit].offset);
  CHECK(scan.acks[0].length == s.units[s.ack_unit].length);
  CHECK(scan.acknowledged ==
        std::set<std::string>{"big", std::string("id\0with\0nuls", 12), "never-written"});
  CHECK(scan.damaged.empty());
  CHECK_FALSE(scan.torn_tail);
  CHECK(s.units.back().end() == s.bytes.size());
  checkTiling(scan, s.bytes.size());
}

TEST_CASE("spool segment: acks from several records are united") {
  Built s = withHeader();
  addAck(s, SpoolAck{{"a", "b"}});
  addBlock(s, block("c", "x"));
  addAck(s, SpoolAck{{}});
  addAck(s, SpoolAck{{"b", "c"}});
  auto scan = scanSegment(s.bytes);
  CHECK(scan.acks.size() == 3);
  CHECK(scan.acknowledged == std::set<std::string>{"a", "b", "c"});
  CHECK(scan.damaged.empty());
}

TEST_CASE("spool segment: a cut at every offset returns exactly the records before it") {
  Built s = smallSegment();
  REQUIRE(s.bytes.size() < 1024);
  for (std::size_t cut = 0; cut <= s.bytes.size(); ++cut) {
    CAPTURE(cut);
    auto scan = scanSegment(std::string_view(s.bytes).substr(0, cut));
    checkTiling(scan, cut);
    CHECK(scan.header.has_value() == (cut >= kSegmentHeaderBytes));
    // Records wholly before the cut, in order, with their content; nothing else.
    std::size_t whole_blocks = 0;
    for (std::size_t i = 0; i < s.blocks.size(); ++i) {
      whole_blocks += s.units[s.block_unit[i]].end() <= cut ? 1 : 0;
    }
    REQUIRE(scan.blocks.size() == whole_blocks);
    for (std::size_t i = 0; i < whole_blocks; ++i) {
      CHECK(scan.blocks[i].block == s.blocks[i]);
      CHECK(scan.blocks[i].offset == s.units[s.block_unit[i]].offset);
    }
    bool ack_whole = s.units[s.ack_unit].end() <= cut;
    REQUIRE(scan.acks.size() == (ack_whole ? 1u : 0u));
    CHECK(scan.acknowledged.size() == (ack_whole ? 2u : 0u));

    std::size_t u = unitContaining(s, cut);
    bool at_boundary = cut == s.bytes.size() || s.units[u].offset == cut;
    if (cut == 0 || (cut >= kSegmentHeaderBytes && at_boundary)) {
      CHECK(scan.damaged.empty());
      CHECK_FALSE(scan.torn_tail);
    } else if (cut < kSegmentHeaderBytes) {
      REQUIRE(scan.damaged.size() == 1);
      CHECK(scan.damaged[0].offset == 0);
      CHECK(scan.damaged[0].reason == "truncated segment header");
      CHECK_FALSE(scan.torn_tail);
    } else {
      CHECK(scan.torn_tail);
      CHECK(scan.torn_tail_offset == s.units[u].offset);
      REQUIRE(scan.damaged.size() == 1);
      CHECK(scan.damaged[0].offset == s.units[u].offset);
      CHECK(scan.damaged[0].length == cut - s.units[u].offset);
    }
  }
}

TEST_CASE("spool segment: a flipped byte anywhere damages exactly the record it is in") {
  const Built s = smallSegment();
  for (unsigned mask : {0xffu, 0x01u}) {
    for (std::size_t pos = 0; pos < s.bytes.size(); ++pos) {
      CAPTURE(mask);
      CAPTURE(pos);
      std::string bytes = s.bytes;
      bytes[pos] = static_cast<char>(static_cast<unsigned char>(bytes[pos]) ^ mask);
      auto scan = scanSegment(bytes);
      checkTiling(scan, bytes.size());
      std::size_t hit = unitContaining(s, pos);
      REQUIRE(hit < s.units.size());
      CHECK(scan.header.has_value() == (hit != 0));
      REQUIRE(scan.damaged.size() == 1);
      CHECK(scan.damaged[0].offset == s.units[hit].offset);
      CHECK(scan.damaged[0].length == s.units[hit].length);
      CHECK_FALSE(scan.torn_tail);
      // Every untouched block is back, unchanged and in order; the touched one is not.
      std::size_t next = 0;
      for (std::size_t i = 0; i < s.blocks.size(); ++i) {
        if (s.block_unit[i] == hit) {
          continue;
        }
        REQUIRE(next < scan.blocks.size());
        CHECK(scan.blocks[next].block == s.blocks[i]);
        CHECK(scan.blocks[next].offset == s.units[s.block_unit[i]].offset);
        ++next;
      }
      CHECK(next == scan.blocks.size());
      if (hit == s.ack_unit) {
        CHECK(scan.acks.empty());
        CHECK(scan.acknowledged.empty());
      } else {
        REQUIRE(scan.acks.size() == 1);
        CHECK(scan.acks[0].ack == s.ack);
      }
    }
  }
}

TEST_CASE("spool segment: garbage before, between and after records is damage, records survive") {
  std::string fake_magic = "SREC" + randomBytes(40, 2);  // header CRC cannot verify
  // A fake record whose header verifies but whose payload does not.
  std::string fake_record = rawRecordHeader(1, 16, 0xdeadbeef) + randomBytes(16, 3);
  REQUIRE(crcOf(fake_record.substr(kRecordHeaderBytes)) != 0xdeadbeef);

  Built s = withHeader();
  Extent g1{s.bytes.size(), 100};
  s.bytes += randomBytes(100, 4);
  addBlock(s, block("a", "first"));
  Extent g2{s.bytes.size(), 0};
  s.bytes += randomBytes(13, 5) + fake_magic + fake_record + randomBytes(7, 6);
  g2.length = s.bytes.size() - g2.offset;
  addBlock(s, block("b", "second"));
  addAck(s, SpoolAck{{"a"}});
  Extent g3{s.bytes.size(), 37};
  s.bytes += randomBytes(37, 7);

  auto scan = scanSegment(s.bytes);
  checkTiling(scan, s.bytes.size());
  REQUIRE(scan.header);
  REQUIRE(scan.blocks.size() == 2);
  CHECK(scan.blocks[0].block == s.blocks[0]);
  CHECK(scan.blocks[1].block == s.blocks[1]);
  REQUIRE(scan.acks.size() == 1);
  CHECK(scan.acknowledged == std::set<std::string>{"a"});
  REQUIRE(scan.damaged.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    Extent want = std::vector<Extent>{g1, g2, g3}[i];
    CHECK(scan.damaged[i].offset == want.offset);
    CHECK(scan.damaged[i].length == want.length);
  }
  CHECK(scan.damaged[0].reason == "garbage (no record magic)");
  CHECK_FALSE(scan.torn_tail);

  SUBCASE("garbage before the segment header") {
    std::string shifted = randomBytes(50, 8) + s.bytes;
    auto moved = scanSegment(shifted);
    checkTiling(moved, shifted.size());
    CHECK_FALSE(moved.header);
    REQUIRE(moved.blocks.size() == 2);
    CHECK(moved.blocks[0].offset == 50 + s.units[s.block_unit[0]].offset);
    CHECK(moved.blocks[1].block == s.blocks[1]);
    REQUIRE(moved.damaged.size() == 3);
    CHECK(moved.damaged[0].offset == 0);
    CHECK(moved.damaged[0].length == 50 + g1.end());
  }
  SUBCASE("a short tail that is not a record header is garbage, not torn") {
    std::string tail = s.bytes.substr(0, g3.offset) + "xyz";
    auto t = scanSegment(tail);
    checkTiling(t, tail.size());
    REQUIRE(t.damaged.size() == 3);
    CHECK(t.damaged[2].length == 3);
    CHECK_FALSE(t.torn_tail);
  }
}

TEST_CASE("spool segment: a record header claiming 4 GiB is damage, not an allocation" *
          doctest::timeout(5.0)) {
  Built s = withHeader();
  std::size_t liar = s.bytes.size();
  s.bytes += rawRecordHeader(1, 0xffffffffu, 0) + randomBytes(64, 9);
  addBlock(s, block("after", "still here"));

  auto start = std::chrono::steady_clock::now();
  auto scan = scanSegment(s.bytes);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  checkTiling(scan, s.bytes.size());
  REQUIRE(scan.damaged.size() == 1);
  CHECK(scan.damaged[0].offset == liar);
  CHECK(scan.damaged[0].reason.find("exceeds the limit") != std::string::npos);
  REQUIRE(scan.blocks.size() == 1);
  CHECK(scan.blocks[0].block == s.blocks[0]);
  CHECK_FALSE(scan.torn_tail);

  SUBCASE("without a limit the file simply ends inside it: a torn tail") {
    std::string cut = s.bytes.substr(0, s.units.back().offset);
    auto t = scanSegment(cut, std::numeric_limits<std::size_t>::max());
    checkTiling(t, cut.size());
    CHECK(t.torn_tail);
    CHECK(t.torn_tail_offset == liar);
    CHECK(t.blocks.empty());
  }
}

TEST_CASE("spool segment: a torn record followed by later records loses none of them") {
  // A writer that appended after a torn write: the torn record claims more than the file holds,
  // and an intact record sits inside what it claims.
  Built s = withHeader();
  std::string torn;
  appendBlockRecord(torn, block("torn", randomBytes(1000, 10)));
  std::size_t torn_at = s.bytes.size();
  s.bytes += torn.substr(0, 100);
  addBlock(s, block("later", "body"));
  auto scan = scanSegment(s.bytes);
  checkTiling(scan, s.bytes.size());
  REQUIRE(scan.blocks.size() == 1);
  CHECK(scan.blocks[0].block.block_id == "later");
  REQUIRE(scan.damaged.size() == 1);
  CHECK(scan.damaged[0].offset == torn_at);
  CHECK(scan.damaged[0].length == 100);
  CHECK_FALSE(scan.torn_tail);
}

TEST_CASE("spool segment: records with verified CRCs but unknown content are skipped whole") {
  Built s = withHeader();
  std::string payload = "future";
  std::size_t unknown_at = s.bytes.size();
  s.bytes += rawRecordHeader(9, static_cast<std::uint32_t>(payload.size()), crcOf(payload));
  s.bytes += payload;
  std::string bad_block("\x05\0\0\0ab", 6);  // a string length past the payload's end
  std::size_t malformed_at = s.bytes.size();
  s.bytes += rawRecordHeader(1, static_cast<std::uint32_t>(bad_block.size()), crcOf(bad_block));
  s.bytes += bad_block;
  std::string bad_ack("\xff\xff\xff\x7f", 4);  // 2 billion ids in 0 bytes
  std::size_t bad_ack_at = s.bytes.size();
  s.bytes += rawRecordHeader(2, 4, crcOf(bad_ack)) + bad_ack;
  addBlock(s, block("ok", "fine"));

  auto scan = scanSegment(s.bytes);
  checkTiling(scan, s.bytes.size());
  REQUIRE(scan.damaged.size() == 3);
  CHECK(scan.damaged[0].offset == unknown_at);
  CHECK(scan.damaged[0].reason == "unknown record kind 9");
  CHECK(scan.damaged[1].offset == malformed_at);
  CHECK(scan.damaged[1].reason == "malformed block payload");
  CHECK(scan.damaged[2].offset == bad_ack_at);
  CHECK(scan.damaged[2].reason == "malformed acknowledgement payload");
  REQUIRE(scan.blocks.size() == 1);
  CHECK(scan.blocks[0].block == s.blocks[0]);
}

TEST_CASE("spool segment: an unrelated file is all damage") {
  auto hello = scanSegment("hello\n");
  CHECK_FALSE(hello.header);
  CHECK(hello.blocks.empty());
  CHECK(hello.acks.empty());
  REQUIRE(hello.damaged.size() == 1);
  CHECK(hello.damaged[0].offset == 0);
  CHECK(hello.damaged[0].length == 6);
  CHECK_FALSE(hello.torn_tail);

  std::string log;
  for (int i = 0; i < 20; ++i) {
    log += "2024-01-01T00:00:00Z GET /index.html 200 SREC\n";
  }
  auto text = scanSegment(log);
  CHECK_FALSE(text.header);
  CHECK(text.blocks.empty());
  REQUIRE(text.damaged.size() == 1);
  CHECK(text.damaged[0].length == log.size());

  auto empty = scanSegment("");
  CHECK_FALSE(empty.header);
  CHECK(empty.damaged.empty());
  CHECK_FALSE(empty.torn_tail);
}

TEST_CASE("spool segment: a newer format version is not guessed at") {
  std::string h = encodeSegmentHeader(SegmentHeader{1, 2});
  h[8] = 2;
  h.resize(28);
  std::uint32_t crc = crcOf(h);
  for (int i = 0; i < 4; ++i) {
    h.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  }
  appendBlockRecord(h, block("x", "y"));
  auto scan = scanSegment(h);
  CHECK_FALSE(scan.header);
  CHECK(scan.blocks.empty());
  REQUIRE(scan.damaged.size() == 1);
  CHECK(scan.damaged[0].length == h.size());
  CHECK(scan.damaged[0].reason.find("unsupported") != std::string::npos);
}

}  // namespace ingestd
