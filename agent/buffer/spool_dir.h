// The disk buffer's spool directory: one output's segment files (format in spool_segment.h)
// holding compressed blocks until the service acknowledged them, with start-up recovery that
// keeps every intact block and quarantines what is damaged (DESIGN.md section 11).
//
// Threads: every member blocks on file I/O (write, fsync, rename, unlink). Call it off the
// loop, from libuv's thread pool, one call at a time per SpoolDir: the class is
// thread-compatible, not thread-safe. It holds one file descriptor (the segment being written).
//
// Files in `path`:
//   seg-<16 lowercase hex digits>.spool   segments; the id increases with every new segment
//   seg-<id>.spool.tmp                    a rewrite of a damaged segment in progress (recovery)
//   corrupt/                              what recovery moved aside; never read again, never
//                                         counted in bytesOnDisk() or max_bytes
//
// Durability:
// - append() returns OK only after the block record is written and fdatasync()ed; a new segment's
//   header is fsynced and the directory fsynced before a record goes into it. Only then does the
//   block count as durable (inputs may commit their checkpoints).
// - A failed append (ENOSPC, EDQUOT, EIO, a write making no progress, a failed fdatasync) cuts
//   the segment back to its size before the write (ftruncate + fsync) and returns kUnavailable;
//   the spool stays usable and a later append succeeds once the disk has space again. When even
//   the cut-back or the fdatasync failed, that segment is closed and the next append starts a
//   new one, so nothing is ever written after bytes of unknown state. A short write is not an
//   error by itself: the rest is written by the next call, as POSIX intends (on a full disk
//   that call fails with ENOSPC, and the append with it).
// - ack() appends an acknowledgement record to the segment being written, without fsync: a
//   crash may lose it, and the block is then sent again after the restart. That is the
//   at-least-once promise; nothing acknowledged-but-unsent is ever skipped.
// - Every segment except the one being written is deleted (unlink + directory fsync) once all
//   its blocks are acknowledged. The segment being written is closed and deleted as well when
//   all its blocks are acknowledged and it has grown past min(1 MiB, segment_bytes / 2), so an
//   idle spool shrinks to nothing instead of keeping up to segment_bytes; below that size it is
//   kept, so that a healthy output (append, send, ack, repeat) does not create a segment (two
//   fsyncs) per block.
// - A segment being deleted may hold acknowledgements of blocks in older segments that stay;
//   those are first copied (one ack record, fdatasync) into the segment being written, so that a
//   clean restart does not resend them.
//
// Recovery (open): segments are read one at a time, in id order (memory: about twice the
// largest segment). A block is pending when its record is intact and no acknowledgement for it
// appears in the same or a later segment; pending keeps the order of the files.
// - Torn tail: a last record the file ends inside (the normal result of kill -9 during a
//   write), or trailing damage that is all zero bytes (a crash after the file grew but before
//   its data reached the disk), is cut off (ftruncate + fsync) and counted in torn_bytes.
// - Any other damage (bad CRC, garbage, a damaged header with readable records): the intact
//   unacknowledged blocks, and the acknowledgements it holds for older blocks, are rewritten
//   into seg-<same id>.spool.tmp and fsynced; the damaged file is renamed into corrupt/ (both
//   directories fsynced); then the rewrite is renamed to the segment's name (directory
//   fsynced). Keeping the id keeps the order after the next restart. The damaged ranges count
//   in corrupt_bytes and one message names the file, the first damaged offset and the reason.
//   A crash in between is safe: a .tmp whose segment still exists is an unfinished rewrite and
//   is deleted; a .tmp without its segment is a finished one and takes the segment's place.
// - A file that is not a segment (another name, a directory other than corrupt/, a segment
//   name whose file has no valid header or an unsupported format version and no readable
//   record, a segment that cannot be read) is moved into corrupt/ whole; its size counts in
//   corrupt_bytes.
// - Damage never fails open(): when a rewrite or a move fails (say, the disk is full), the file
//   stays where it is, its intact blocks are served from it (read() verifies each), nothing is
//   appended to it, and a message says so. open() fails only when the directory is unusable:
//   it cannot be created, is not a directory, cannot be listed, or is not writable.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/buffer/spool_segment.h"
#include "agent/core/status.h"

namespace ingestd {

inline constexpr std::uint64_t kDefaultSpoolSegmentBytes = std::uint64_t{32} << 20;

struct SpoolOptions {
  std::string path;
  // On-disk limit of the segments (headers, blocks and acknowledgements). append() refuses a
  // block that would pass it; ack records are not refused (they are tiny and lead to deletions).
  std::uint64_t max_bytes = 0;
  // A new segment starts when the next block would take the current one past this size. A block
  // larger than this gets a segment of its own. Must be larger than kSegmentHeaderBytes.
  std::uint64_t segment_bytes = kDefaultSpoolSegmentBytes;
  // Test hook for every write the spool makes (headers, records, recovery rewrites): empty means
  // ::write. It sets errno and returns -1 on failure, like ::write.
  std::function<ssize_t(int fd, const void* buf, std::size_t n)> write_fn;
};

// What open() found; the caller logs the messages (warn) and counts corrupt_bytes in
// ingestd_buffer_corrupt_bytes_total.
struct SpoolRecovery {
  std::uint64_t blocks_recovered = 0;  // pending after open
  std::uint64_t bytes_recovered = 0;   // their record bytes on disk
  // Damaged bytes found in segments (moved to corrupt/, or left in place when that failed), and
  // whole files that are not segments moved to corrupt/.
  std::uint64_t corrupt_bytes = 0;
  std::uint64_t torn_bytes = 0;  // cut off torn tails
  std::uint64_t files_quarantined = 0;
  std::vector<std::string> messages;  // sentences naming the file, one per file dealt with
};

// A pending block: where its record is, and what the pipeline needs without reading it.
struct SpoolEntry {
  std::uint64_t seq = 0;  // position in the spool's order, unique within one SpoolDir
  std::string block_id;
  std::uint64_t segment_id = 0;
  std::uint64_t offset = 0;  // of the record header in the segment file
  std::uint64_t length = 0;  // record header + payload
  std::uint64_t records = 0;
  std::uint64_t raw_bytes = 0;
  std::int64_t created_unix_ms = 0;

  bool operator==(const SpoolEntry&) const = default;
};

class SpoolDir {
 public:
  // Blocking. Creates the directory when missing, then recovers it (see the top of this file)
  // and fills `report`. Errors: kInvalidArgument for bad options; kIo or kPermissionDenied
  // naming the path when the directory cannot be created, listed or written.
  static Result<std::unique_ptr<SpoolDir>> open(const SpoolOptions& options, SpoolRecovery& report);
  ~SpoolDir();
  SpoolDir(const SpoolDir&) = delete;
  SpoolDir& operator=(const SpoolDir&) = delete;

  // The unacknowledged blocks by seq, in order. A map rather than a queue because acks arrive
  // in any order; a caller that sent everything up to seq N continues at upper_bound(N).
  const std::map<std::uint64_t, SpoolEntry>& pending() const { return pending_; }

  // Blocking. Reads the entry's record back (pread) and verifies it. kDataLoss naming the file
  // and offset when it is missing or does not verify: that block is lost (ack() removes it);
  // kIo when the file cannot be read.
  Result<SpoolBlock> read(const SpoolEntry& entry) const;

  // Blocking. Appends the block and syncs it; on OK it is durable and pending. kUnavailable
  // when the spool is full or the write or sync failed (see the top of this file; nothing of
  // the block remains then). kInvalidArgument when the block id is already pending or the block
  // is larger than a segment record may be.
  Result<SpoolEntry> append(const SpoolBlock& block);

  // Blocking. The service acknowledged the block: it leaves pending() at once, whatever the
  // result. kNotFound when it is not pending. kUnavailable when the ack record could not be
  // written or a finished segment could not be deleted: nothing is lost (the block may be sent
  // again after a crash; the deletion is tried again at the next ack).
  Status ack(const std::string& block_id);

  // The exact bytes append() writes for this block's record.
  static std::uint64_t recordBytes(const SpoolBlock& block);
  // True when a record of `record_bytes` (plus a segment header, if it would start a segment)
  // does not fit under max_bytes: append() would refuse it.
  bool full(std::uint64_t record_bytes) const;

  std::uint64_t bytesOnDisk() const { return bytes_; }  // live segment files, not corrupt/
  std::size_t blockCount() const { return pending_.size(); }
  std::optional<std::int64_t> oldestCreatedUnixMs() const;
  const std::string& path() const { return options_.path; }
  std::string segmentPath(std::uint64_t segment_id) const;

 private:
  struct Segment {
    std::string file;        // full path; a .tmp name only when a rewrite's rename failed
    std::uint64_t size = 0;  // bytes on disk
    std::size_t live = 0;    // pending blocks stored in it
    bool sealed = false;     // damaged or of unknown state: never appended to
    // Acknowledgements written into this segment for blocks of older segments.
    std::vector<std::pair<std::string, std::uint64_t>> acks_of_older;  // block id, its segment
  };
  struct Listing;
  struct Rewrite;

  explicit SpoolDir(SpoolOptions options) : options_(std::move(options)) {}

  // Recovery.
  Status prepareDirectory() const;
  Status listDirectory(Listing& out, SpoolRecovery& report);
  void recoverSegment(std::uint64_t id, const std::string& file, SpoolRecovery& report);
  Rewrite planRewrite(std::uint64_t id, const SegmentScan& scan) const;
  void recoverDamaged(std::uint64_t id, const std::string& file, SegmentScan scan,
                      std::uint64_t size, SpoolRecovery& report);
  // Registers a segment and its blocks (seq assigned here), applying its acknowledgements.
  void adopt(std::uint64_t id, Segment seg, std::vector<SpoolEntry> entries,
             const std::set<std::string>& acknowledged);
  void quarantineWhole(const std::string& file, std::uint64_t size, const std::string& why,
                       SpoolRecovery& report);
  Result<std::string> quarantine(const std::string& file) const;  // the new path
  void chooseCurrent(SpoolRecovery& report);

  // Writing.
  Status startSegment();
  Status ensureCurrent();
  void closeCurrent();
  Status writeToCurrent(std::string_view bytes, bool sync);
  Status writeAck(const std::vector<std::string>& ids, bool sync);
  Status deleteFinishedSegments();
  void forget(std::uint64_t seq);
  bool needsNewSegment(std::uint64_t record_bytes) const;

  SpoolOptions options_;
  std::map<std::uint64_t, Segment> segments_;              // by id
  std::map<std::uint64_t, SpoolEntry> pending_;            // by seq
  std::unordered_map<std::string, std::uint64_t> seq_of_;  // block id -> seq
  std::multiset<std::int64_t> created_;                    // of the pending blocks
  std::uint64_t bytes_ = 0;                                // sum of segments_ sizes
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_segment_id_ = 1;
  std::optional<std::uint64_t> current_;  // the segment appended to, open as fd_
  int fd_ = -1;
};

}  // namespace ingestd
