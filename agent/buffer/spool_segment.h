// The byte format of one disk-buffer (spool) segment file, as pure functions: encode a segment
// header and its records into a byte string, and scan a segment's bytes back into the intact
// blocks and acknowledgements plus an exact list of what is damaged (DESIGN.md section 11).
// No file I/O here: writing, fsync, rotation and deletion belong to the spool that uses this.
//
// Format version 1. Every integer is little-endian; every CRC is zlib's crc32() (CRC-32/ISO-HDLC,
// initial value 0).
//
// Segment header, kSegmentHeaderBytes = 32 bytes, at offset 0:
//   off  size  field
//     0     8  magic            "INGSPOOL"
//     8     2  version          u16, kSpoolFormatVersion (1)
//    10     2  flags            u16, 0 (a reader rejects any other value)
//    12     8  segment_id       u64
//    20     8  created_unix_ms  i64 as two's complement u64
//    28     4  header_crc       u32, CRC32 of bytes 0..27
//
// Then records, back to back, until the end of the file. Record header, kRecordHeaderBytes = 20:
//   off  size  field
//     0     4  magic            u32 kRecordMagic (the bytes "SREC")
//     4     1  kind             u8, 1 = block, 2 = acknowledgement
//     5     1  reserved         u8, 0
//     6     2  reserved         u16, 0
//     8     4  payload_length   u32, bytes of payload after this header
//    12     4  payload_crc      u32, CRC32 of the payload
//    16     4  header_crc       u32, CRC32 of bytes 0..15 of this record header
//    20     n  payload
//
// A "string" below is a u32 byte count followed by that many bytes (any bytes, NULs included).
// Block payload (kind 1), fields in this order, nothing after the last:
//   block_id string | output string | destination string | records u64 | raw_bytes u64 |
//   created_unix_ms i64 | input_positions string | body string
// Acknowledgement payload (kind 2): count u32, then `count` strings (block ids), nothing after.
//
// Reading rules (scanSegment):
// - A record is intact when its magic, header CRC and payload CRC verify, its payload length is
//   at most `max_record_bytes` and fits in the file, its reserved bytes are 0, its kind is known
//   and its payload decodes to exactly payload_length bytes.
// - A record whose CRCs verify but that is not intact otherwise (unknown kind, reserved bytes
//   set, a payload that does not decode) is damage over exactly its own extent; reading goes on
//   after it.
// - Any other failure starts damage at that byte. The reader then resynchronises: it searches
//   forward byte by byte for the next record magic whose header CRC verifies and whose payload
//   length fits both the bytes left and `max_record_bytes`, and tries a record there. The damage
//   ends where the next intact record starts, or at the end of the file.
// - A damaged or foreign segment header is damage; records are still searched for from offset 0.
//   A header whose CRC verifies but has another version or non-zero flags belongs to a format
//   this reader does not know: the whole segment is then one damaged range and no record is read.
// - The last record is torn when the file ends inside it: either fewer than kRecordHeaderBytes
//   are left and they start like a record magic, or its header verifies and its payload length
//   is allowed but runs past the end of the file (and no intact record is found after it).
//
// The caller appends records in the order they happen; a reader replays the blocks of a segment
// in file order and skips those whose id appears in any acknowledgement of the same segment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ingestd {

inline constexpr std::string_view kSegmentMagic = "INGSPOOL";
inline constexpr std::uint16_t kSpoolFormatVersion = 1;
inline constexpr std::size_t kSegmentHeaderBytes = 32;
inline constexpr std::uint32_t kRecordMagic = 0x43455253;  // "SREC" as little-endian bytes
inline constexpr std::size_t kRecordHeaderBytes = 20;
inline constexpr std::size_t kDefaultMaxRecordBytes = std::size_t{64} << 20;

enum class SpoolRecordKind : std::uint8_t {
  kBlock = 1,
  kAck = 2,
};

struct SegmentHeader {
  std::uint64_t segment_id = 0;
  std::int64_t created_unix_ms = 0;

  bool operator==(const SegmentHeader&) const = default;
};

// One compressed block as the output would send it, with what is needed to resend it after a
// restart and to commit the inputs' checkpoints once it is acknowledged.
struct SpoolBlock {
  std::string block_id;     // request id, stable over every attempt (Payload::block_id)
  std::string output;       // output instance name
  std::string destination;  // database/table (or whatever the output routes by)
  std::uint64_t records = 0;
  std::uint64_t raw_bytes = 0;  // size before compression
  std::int64_t created_unix_ms = 0;
  std::string input_positions;  // opaque to the spool: what each input needs to commit
  std::string body;             // gzip bytes

  bool operator==(const SpoolBlock&) const = default;
};

// Block ids the service acknowledged; a later reader does not resend them.
struct SpoolAck {
  std::vector<std::string> block_ids;

  bool operator==(const SpoolAck&) const = default;
};

// Byte extents are of the whole record: offset of its record header, and header + payload bytes.
struct ScannedBlock {
  std::size_t offset = 0;
  std::size_t length = 0;
  SpoolBlock block;
};

struct ScannedAck {
  std::size_t offset = 0;
  std::size_t length = 0;
  SpoolAck ack;
};

struct DamagedRange {
  std::size_t offset = 0;
  std::size_t length = 0;
  std::string reason;  // sentence fragment for a log line: "payload CRC mismatch"
};

struct SegmentScan {
  std::optional<SegmentHeader> header;  // set only when the header is intact and supported
  std::vector<ScannedBlock> blocks;     // intact blocks, in file order
  std::vector<ScannedAck> acks;         // intact acknowledgements, in file order
  std::set<std::string> acknowledged;   // union of the block ids of all intact acks
  // In file order, not overlapping, never empty. Together with the intact header and records
  // they cover every byte of the segment exactly once. A torn tail is the last range.
  std::vector<DamagedRange> damaged;
  bool torn_tail = false;
  std::size_t torn_tail_offset = 0;  // where the torn record starts, when torn_tail
};

// Pure; these and scanSegment are safe to call from any thread on distinct arguments.
std::string encodeSegmentHeader(const SegmentHeader& h);

// Pure. Appends one record to `out`. A string or body of 4 GiB or more, or a payload that does
// not fit a u32, is our bug (checked). Callers keep blocks well under the reader's
// max_record_bytes, or the reader will count the record as damage.
void appendBlockRecord(std::string& out, const SpoolBlock& b);
void appendAckRecord(std::string& out, const SpoolAck& a);

// Pure, never throws (except out of memory), never reads outside `bytes`, and never allocates
// more than the bytes it returns. Linear in the segment size, except that each resynchronisation
// candidate whose header CRC verifies costs a CRC of its payload. An empty input has no header
// and no damage. Decoded blocks are copies: the result holds about as many bytes as the input.
SegmentScan scanSegment(std::string_view bytes,
                        std::size_t max_record_bytes = kDefaultMaxRecordBytes);

}  // namespace ingestd
