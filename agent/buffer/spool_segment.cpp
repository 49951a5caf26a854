// Disk-buffer segment format: little-endian encoders, a bounds-checked payload reader, and the
// scanner that splits a segment into intact records and damaged ranges (format in the header).
#include "agent/buffer/spool_segment.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "agent/core/assert.h"

namespace ingestd {

namespace {

constexpr std::string_view kRecordMagicBytes = "SREC";
constexpr std::size_t kU32Max = std::numeric_limits<std::uint32_t>::max();

std::uint32_t crcOf(std::string_view s) {
  // Every CRC'd range is at most a u32 payload long, so one call covers it.
  return static_cast<std::uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

template <class T>
void putLe(std::string& out, T v) {
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
  }
}

template <class T>
T getLe(std::string_view s, std::size_t at) {
  std::uint64_t u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    u |= std::uint64_t{static_cast<unsigned char>(s[at + i])} << (8 * i);
  }
  return static_cast<T>(static_cast<std::make_unsigned_t<T>>(u));
}

void putString(std::string& out, std::string_view s) {
  INGESTD_CHECK(s.size() <= kU32Max);
  putLe(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

// Reads a payload front to back; every read checks the bytes left first, and once a read fails
// every later one fails too.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view s) : s_(s) {}

  template <class T>
  bool read(T& v) {
    if (!ok_ || s_.size() - pos_ < sizeof(T)) {
      ok_ = false;
      return false;
    }
    v = getLe<T>(s_, pos_);
    pos_ += sizeof(T);
    return true;
  }

  bool readString(std::string& v) {
    std::uint32_t n = 0;
    if (!read(n) || s_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    v.assign(s_.substr(pos_, n));
    pos_ += n;
    return true;
  }

  std::size_t left() const { return s_.size() - pos_; }
  // True when every read succeeded and the payload had nothing after the last field.
  bool done() const { return ok_ && pos_ == s_.size(); }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

std::optional<SpoolBlock> decodeBlock(std::string_view payload) {
  PayloadReader r(payload);
  SpoolBlock b;
  r.readString(b.block_id);
  r.readString(b.output);
  r.readString(b.destination);
  r.read(b.records);
  r.read(b.raw_bytes);
  r.read(b.created_unix_ms);
  r.readString(b.input_positions);
  r.readString(b.body);
  if (!r.done()) {
    return std::nullopt;
  }
  return b;
}

std::optional<SpoolAck> decodeAck(std::string_view payload) {
  PayloadReader r(payload);
  std::uint32_t count = 0;
  // Each id takes at least its 4-byte length: a count above that is a lie, not an allocation.
  if (!r.read(count) || count > r.left() / 4) {
    return std::nullopt;
  }
  SpoolAck a;
  a.block_ids.resize(count);
  for (auto& id : a.block_ids) {
    r.readString(id);
  }
  if (!r.done()) {
    return std::nullopt;
  }
  return a;
}

// Reserves the record header, lets `fill` append the payload, then writes the header over it.
template <class Fill>
void appendRecord(std::string& out, SpoolRecordKind kind, Fill&& fill) {
  std::size_t start = out.size();
  out.resize(start + kRecordHeaderBytes);
  fill(out);
  std::size_t payload_len = out.size() - start - kRecordHeaderBytes;
  INGESTD_CHECK(payload_len <= kU32Max);
  std::string header;
  header.reserve(kRecordHeaderBytes);
  putLe(header, kRecordMagic);
  putLe(header, static_cast<std::uint8_t>(kind));
  putLe(header, std::uint8_t{0});
  putLe(header, std::uint16_t{0});
  putLe(header, static_cast<std::uint32_t>(payload_len));
  putLe(header, crcOf(std::string_view(out).substr(start + kRecordHeaderBytes)));
  putLe(header, crcOf(header));
  out.replace(start, kRecordHeaderBytes, header);
}

struct RecordHeader {
  std::uint8_t kind = 0;
  std::uint8_t reserved8 = 0;
  std::uint16_t reserved16 = 0;
  std::uint32_t payload_length = 0;
  std::uint32_t payload_crc = 0;
};

// What trying to read a record at one offset found.
enum class Found {
  kBlock,   // intact block
  kAck,     // intact acknowledgement
  kSkip,    // CRCs verify but the record is unusable: damage over exactly its extent
  kTorn,    // the file ends inside this record (or its header)
  kDamage,  // nothing trustworthy starts here
};

struct Attempt {
  Found found = Found::kDamage;
  std::size_t length = 0;  // whole record, for kBlock, kAck and kSkip
  std::string reason;      // for kSkip, kTorn and kDamage
  std::optional<SpoolBlock> block;
  std::optional<SpoolAck> ack;
};

class Scanner {
 public:
  Scanner(std::string_view bytes, std::size_t max_record_bytes)
      : bytes_(bytes), max_record_(max_record_bytes) {}

  SegmentScan run() {
    std::size_t pos = scanHeader();
    while (pos < bytes_.size()) {
      pos = step(pos);
    }
    endDamage(bytes_.size());
    return std::move(scan_);
  }

 private:
  // Returns where records start; on a bad header, damage has begun at 0 and records are
  // searched for from there.
  std::size_t scanHeader() {
    std::string_view b = bytes_;
    if (b.empty()) {
      return 0;
    }
    if (b.size() < kSegmentHeaderBytes) {
      bool prefix = kSegmentMagic.substr(0, b.size()) == b.substr(0, kSegmentMagic.size());
      beginDamage(0, prefix ? "truncated segment header" : "not a spool segment (no header)");
      return 0;
    }
    if (b.substr(0, kSegmentMagic.size()) != kSegmentMagic) {
      beginDamage(0, "bad segment header magic");
      return 0;
    }
    if (getLe<std::uint32_t>(b, 28) != crcOf(b.substr(0, 28))) {
      beginDamage(0, "bad segment header CRC");
      return 0;
    }
    auto version = getLe<std::uint16_t>(b, 8);
    auto flags = getLe<std::uint16_t>(b, 10);
    if (version != kSpoolFormatVersion || flags != 0) {
      // A format we do not know: guessing at its records could replay garbage.
      beginDamage(0, fmt::format("unsupported segment format (version {}, flags {:#x})", version,
                                 flags));
      return b.size();
    }
    scan_.header = SegmentHeader{getLe<std::uint64_t>(b, 12), getLe<std::int64_t>(b, 20)};
    return kSegmentHeaderBytes;
  }

  // Handles what starts at `pos` and returns where to look next.
  std::size_t step(std::size_t pos) {
    if (damage_start_) {
      pos = resync(pos);
      if (pos == bytes_.size()) {
        return pos;
      }
    }
    Attempt a = tryRecord(pos);
    switch (a.found) {
      case Found::kBlock:
        endDamage(pos);
        scan_.blocks.push_back(ScannedBlock{pos, a.length, std::move(*a.block)});
        return pos + a.length;
      case Found::kAck:
        endDamage(pos);
        for (const auto& id : a.ack->block_ids) {
          scan_.acknowledged.insert(id);
        }
        scan_.acks.push_back(ScannedAck{pos, a.length, std::move(*a.ack)});
        return pos + a.length;
      case Found::kSkip:
        endDamage(pos);
        scan_.damaged.push_back(DamagedRange{pos, a.length, std::move(a.reason)});
        return pos + a.length;
      case Found::kTorn:
      case Found::kDamage:
        if (!damage_start_) {
          beginDamage(pos, std::move(a.reason));
          torn_candidate_ = a.found == Found::kTorn;
        }
        return pos + 1;
    }
    return pos + 1;
  }

  // The first offset at or after `from` where a record header verifies and its payload fits,
  // or the end of the input.
  std::size_t resync(std::size_t from) const {
    const std::size_t n = bytes_.size();
    while (from < n) {
      std::size_t hit = bytes_.find(kRecordMagicBytes, from);
      if (hit == std::string_view::npos || n - hit < kRecordHeaderBytes) {
        return n;
      }
      auto h = verifiedHeader(hit);
      if (h && h->payload_length <= max_record_ &&
          h->payload_length <= n - hit - kRecordHeaderBytes) {
        return hit;
      }
      from = hit + 1;
    }
    return n;
  }

  // The record header at `pos` when its magic and CRC verify; `pos` has a header's bytes left.
  std::optional<RecordHeader> verifiedHeader(std::size_t pos) const {
    std::string_view h = bytes_.substr(pos, kRecordHeaderBytes);
    if (getLe<std::uint32_t>(h, 0) != kRecordMagic ||
        getLe<std::uint32_t>(h, 16) != crcOf(h.substr(0, 16))) {
      return std::nullopt;
    }
    return RecordHeader{getLe<std::uint8_t>(h, 4), getLe<std::uint8_t>(h, 5),
                        getLe<std::uint16_t>(h, 6), getLe<std::uint32_t>(h, 8),
                        getLe<std::uint32_t>(h, 12)};
  }

  Attempt tryRecord(std::size_t pos) const {
    std::size_t left = bytes_.size() - pos;
    if (left < kRecordHeaderBytes) {
      std::size_t m = std::min(left, kRecordMagicBytes.size());
      if (bytes_.substr(pos, m) == kRecordMagicBytes.substr(0, m)) {
        return Attempt{Found::kTorn, 0, "truncated record header", {}, {}};
      }
      return Attempt{Found::kDamage, 0, "garbage (no record magic)", {}, {}};
    }
    if (getLe<std::uint32_t>(bytes_, pos) != kRecordMagic) {
      return Attempt{Found::kDamage, 0, "garbage (no record magic)", {}, {}};
    }
    auto h = verifiedHeader(pos);
    if (!h) {
      return Attempt{Found::kDamage, 0, "bad record header CRC", {}, {}};
    }
    if (h->payload_length > max_record_) {
      return Attempt{Found::kDamage,
                     0,
                     fmt::format("record payload of {} bytes exceeds the limit of {}",
                                 h->payload_length, max_record_),
                     {},
                     {}};
    }
    if (h->payload_length > left - kRecordHeaderBytes) {
      return Attempt{Found::kTorn, 0, "truncated record", {}, {}};
    }
    std::string_view payload = bytes_.substr(pos + kRecordHeaderBytes, h->payload_length);
    if (crcOf(payload) != h->payload_crc) {
      return Attempt{Found::kDamage, 0, "payload CRC mismatch", {}, {}};
    }
    return decodeRecord(*h, payload);
  }

  static Attempt decodeRecord(const RecordHeader& h, std::string_view payload) {
    Attempt a;
    a.found = Found::kSkip;
    a.length = kRecordHeaderBytes + payload.size();
    if (h.reserved8 != 0 || h.reserved16 != 0) {
      a.reason = "record with reserved bytes set";
    } else if (h.kind == static_cast<std::uint8_t>(SpoolRecordKind::kBlock)) {
      a.block = decodeBlock(payload);
      a.found = a.block ? Found::kBlock : Found::kSkip;
      a.reason = "malformed block payload";
    } else if (h.kind == static_cast<std::uint8_t>(SpoolRecordKind::kAck)) {
      a.ack = decodeAck(payload);
      a.found = a.ack ? Found::kAck : Found::kSkip;
      a.reason = "malformed acknowledgement payload";
    } else {
      a.reason = fmt::format("unknown record kind {}", h.kind);
    }
    return a;
  }

  void beginDamage(std::size_t at, std::string reason) {
    damage_start_ = at;
    damage_reason_ = std::move(reason);
  }

  // Closes the open damaged range (if any) just before `at`.
  void endDamage(std::size_t at) {
    if (!damage_start_) {
      return;
    }
    std::size_t start = *damage_start_;
    if (torn_candidate_) {
      if (at == bytes_.size()) {
        scan_.torn_tail = true;
        scan_.torn_tail_offset = start;
      } else {
        // Its header verified but an intact record starts inside what it claims to hold.
        damage_reason_ = "record overlaps the next intact record";
      }
    }
    if (at > start) {
      scan_.damaged.push_back(DamagedRange{start, at - start, std::move(damage_reason_)});
    }
    damage_start_.reset();
    damage_reason_.clear();
    torn_candidate_ = false;
  }

  std::string_view bytes_;
  std::size_t max_record_;
  SegmentScan scan_;
  std::optional<std::size_t> damage_start_;  // open damaged range, until the next intact record
  std::string damage_reason_;
  bool torn_candidate_ = false;  // the open range began with a record the file ends inside
};

}  // namespace

std::string encodeSegmentHeader(const SegmentHeader& h) {
  std::string out;
  out.reserve(kSegmentHeaderBytes);
  out.append(kSegmentMagic);
  putLe(out, kSpoolFormatVersion);
  putLe(out, std::uint16_t{0});
  putLe(out, h.segment_id);
  putLe(out, h.created_unix_ms);
  putLe(out, crcOf(out));
  return out;
}

void appendBlockRecord(std::string& out, const SpoolBlock& b) {
  appendRecord(out, SpoolRecordKind::kBlock, [&b](std::string& o) {
    putString(o, b.block_id);
    putString(o, b.output);
    putString(o, b.destination);
    putLe(o, b.records);
    putLe(o, b.raw_bytes);
    putLe(o, b.created_unix_ms);
    putString(o, b.input_positions);
    putString(o, b.body);
  });
}

void appendAckRecord(std::string& out, const SpoolAck& a) {
  appendRecord(out, SpoolRecordKind::kAck, [&a](std::string& o) {
    INGESTD_CHECK(a.block_ids.size() <= kU32Max);
    putLe(o, static_cast<std::uint32_t>(a.block_ids.size()));
    for (const auto& id : a.block_ids) {
      putString(o, id);
    }
  });
}

SegmentScan scanSegment(std::string_view bytes, std::size_t max_record_bytes) {
  return Scanner(bytes, max_record_bytes).run();
}

}  // namespace ingestd
