// The spool directory's writer and reader: appends with fsync discipline, reads that verify,
// acknowledgements, and deletion of finished segments. Recovery is in spool_recovery.cpp.
#include "agent/buffer/spool_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include <fmt/format.h>

#include "agent/buffer/spool_files.h"
#include "agent/core/assert.h"

namespace ingestd {

using spool_files::errnoText;
using spool_files::nowUnixMs;
using spool_files::syncDir;
using spool_files::writeAll;

namespace {

// The segment being written is deleted once all its blocks are acknowledged and it has grown
// to min(this, segment_bytes / 2) (see the header).
constexpr std::uint64_t kRetireEmptySegmentBytes = std::uint64_t{1} << 20;
// Block payload: five length-prefixed strings and three 8-byte integers (spool_segment.h).
constexpr std::uint64_t kBlockPayloadFixedBytes = 5 * 4 + 3 * 8;

}  // namespace

SpoolDir::~SpoolDir() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::string SpoolDir::segmentPath(std::uint64_t segment_id) const {
  return options_.path + "/" + spool_files::segmentName(segment_id);
}

// ---- Reading ----

Result<SpoolBlock> SpoolDir::read(const SpoolEntry& entry) const {
  auto seg = segments_.find(entry.segment_id);
  const std::string file =
      seg != segments_.end() ? seg->second.file : segmentPath(entry.segment_id);
  auto lost = [&](std::string_view why) {
    return makeError(ErrorCode::kDataLoss,
                     "Spool segment \"{}\": block \"{}\" at offset {} is lost: {}.", file,
                     entry.block_id, entry.offset, why);
  };
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return lost("the file is missing");
    }
    return makeError(ErrorCode::kIo, "Cannot read spool segment \"{}\": {}.", file,
                     errnoText(errno));
  }
  // Behind a segment header, the record is a one-record segment that scanSegment verifies.
  std::string buf = encodeSegmentHeader(SegmentHeader{entry.segment_id, 0});
  buf.resize(kSegmentHeaderBytes + entry.length);
  std::size_t got = 0;
  while (got < entry.length) {
    ssize_t n = ::pread(fd, buf.data() + kSegmentHeaderBytes + got, entry.length - got,
                        static_cast<off_t>(entry.offset + got));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return makeError(ErrorCode::kIo, "Cannot read spool segment \"{}\" at offset {}: {}.", file,
                       entry.offset, errnoText(err));
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got < entry.length) {
    return lost(fmt::format("the file ends at offset {}", entry.offset + got));
  }
  SegmentScan scan = scanSegment(buf);
  if (!scan.damaged.empty()) {
    return lost(scan.damaged.front().reason);
  }
  if (scan.blocks.size() != 1 || scan.blocks[0].length != entry.length ||
      scan.blocks[0].block.block_id != entry.block_id) {
    return lost("another record is stored there");
  }
  return std::move(scan.blocks[0].block);
}

std::optional<std::int64_t> SpoolDir::oldestCreatedUnixMs() const {
  if (created_.empty()) {
    return std::nullopt;
  }
  return *created_.begin();
}

// ---- Writing ----

std::uint64_t SpoolDir::recordBytes(const SpoolBlock& b) {
  return kRecordHeaderBytes + kBlockPayloadFixedBytes + b.block_id.size() + b.output.size() +
         b.destination.size() + b.input_positions.size() + b.body.size();
}

bool SpoolDir::needsNewSegment(std::uint64_t record_bytes) const {
  if (!current_) {
    return true;
  }
  // A segment may already be past segment_bytes: grown by ack records, or written under a
  // larger setting before a restart.
  std::uint64_t size = segments_.at(*current_).size;
  return size > kSegmentHeaderBytes &&
         (size >= options_.segment_bytes || record_bytes > options_.segment_bytes - size);
}

bool SpoolDir::full(std::uint64_t record_bytes) const {
  std::uint64_t need = record_bytes;
  if (needsNewSegment(record_bytes)) {
    need += kSegmentHeaderBytes;
  }
  return need < record_bytes || bytes_ > options_.max_bytes || need > options_.max_bytes - bytes_;
}

Status SpoolDir::startSegment() {
  const std::uint64_t id = next_segment_id_++;
  const std::string file = segmentPath(id);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return makeError(ErrorCode::kUnavailable, "Spool \"{}\": cannot create segment \"{}\": {}.",
                     options_.path, file, errnoText(errno));
  }
  const std::string header = encodeSegmentHeader(SegmentHeader{id, nowUnixMs()});
  std::optional<std::string> err = writeAll(options_.write_fn, fd, header);
  if (!err && ::fsync(fd) != 0) {
    err = errnoText(errno);
  }
  if (!err) {
    err = syncDir(options_.path);
  }
  if (err) {
    ::close(fd);
    ::unlink(file.c_str());
    static_cast<void>(syncDir(options_.path));
    return makeError(ErrorCode::kUnavailable, "Spool \"{}\": cannot start segment \"{}\": {}.",
                     options_.path, file, *err);
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
  current_ = id;
  fd_ = fd;
  Segment seg;
  seg.file = file;
  seg.size = header.size();
  segments_.emplace(id, std::move(seg));
  bytes_ += header.size();
  return Status::ok();
}

Status SpoolDir::ensureCurrent() { return current_ ? Status::ok() : startSegment(); }

void SpoolDir::closeCurrent() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = -1;
  current_.reset();
}

Status SpoolDir::writeToCurrent(std::string_view bytes, bool sync) {
  Segment& seg = segments_.at(*current_);
  std::optional<std::string> err = writeAll(options_.write_fn, fd_, bytes);
  bool sync_failed = false;
  if (!err && sync && ::fdatasync(fd_) != 0) {
    err = errnoText(errno);
    sync_failed = true;
  }
  if (!err) {
    seg.size += bytes.size();
    bytes_ += bytes.size();
    return Status::ok();
  }
  // Cut back what this write may have left. After a failed fdatasync the kernel may have
  // dropped the dirty pages, so that segment is not trusted with more writes either.
  bool cut = ::ftruncate(fd_, static_cast<off_t>(seg.size)) == 0 && ::fsync(fd_) == 0;
  if (!cut || sync_failed) {
    struct stat st {};
    if (::fstat(fd_, &st) == 0) {
      bytes_ = bytes_ - seg.size + static_cast<std::uint64_t>(st.st_size);
      seg.size = static_cast<std::uint64_t>(st.st_size);
    }
    seg.sealed = true;
    closeCurrent();
  }
  return makeError(ErrorCode::kUnavailable, "Spool \"{}\": cannot write segment \"{}\": {}.",
                   options_.path, seg.file, *err);
}

Result<SpoolEntry> SpoolDir::append(const SpoolBlock& block) {
  if (seq_of_.contains(block.block_id)) {
    return makeError(ErrorCode::kInvalidArgument, "Spool \"{}\": block \"{}\" is already pending.",
                     options_.path, block.block_id);
  }
  const std::uint64_t record_bytes = recordBytes(block);
  if (record_bytes - kRecordHeaderBytes > kDefaultMaxRecordBytes) {
    return makeError(ErrorCode::kInvalidArgument,
                     "Spool \"{}\": block \"{}\" needs {} bytes, more than a record may hold ({}).",
                     options_.path, block.block_id, record_bytes, kDefaultMaxRecordBytes);
  }
  if (full(record_bytes)) {
    return makeError(ErrorCode::kUnavailable,
                     "Spool \"{}\" is full: {} of {} bytes used, block \"{}\" needs {}.",
                     options_.path, bytes_, options_.max_bytes, block.block_id, record_bytes);
  }
  std::string rec;
  rec.reserve(record_bytes);
  appendBlockRecord(rec, block);
  INGESTD_ASSERT(rec.size() == record_bytes);
  if (needsNewSegment(record_bytes)) {
    INGESTD_RETURN_IF_ERROR(startSegment());
    // The segment written before may hold nothing pending any more. A failed deletion is
    // tried again later; it does not stop the append.
    static_cast<void>(deleteFinishedSegments());
  }
  const std::uint64_t id = *current_;
  const std::uint64_t offset = segments_.at(id).size;
  INGESTD_RETURN_IF_ERROR(writeToCurrent(rec, /*sync=*/true));
  SpoolEntry e{next_seq_++,     block.block_id,       id, offset, rec.size(), block.records,
               block.raw_bytes, block.created_unix_ms};
  ++segments_.at(id).live;
  seq_of_.emplace(e.block_id, e.seq);
  created_.insert(e.created_unix_ms);
  pending_.emplace(e.seq, e);
  return e;
}

void SpoolDir::forget(std::uint64_t seq) {
  auto it = pending_.find(seq);
  INGESTD_CHECK(it != pending_.end());
  auto seg = segments_.find(it->second.segment_id);
  if (seg != segments_.end()) {
    --seg->second.live;
  }
  created_.erase(created_.find(it->second.created_unix_ms));
  seq_of_.erase(it->second.block_id);
  pending_.erase(it);
}

Status SpoolDir::writeAck(const std::vector<std::string>& ids, bool sync) {
  INGESTD_RETURN_IF_ERROR(ensureCurrent());
  std::string rec;
  appendAckRecord(rec, SpoolAck{ids});
  return writeToCurrent(rec, sync);
}

Status SpoolDir::ack(const std::string& block_id) {
  auto it = seq_of_.find(block_id);
  if (it == seq_of_.end()) {
    return makeError(ErrorCode::kNotFound, "Spool \"{}\": block \"{}\" is not pending.",
                     options_.path, block_id);
  }
  const std::uint64_t seg_id = pending_.at(it->second).segment_id;
  forget(it->second);
  const Segment& seg = segments_.at(seg_id);
  const bool in_current = current_ == seg_id;
  Status written;
  if (in_current && seg.live == 0 &&
      seg.size >= std::min(kRetireEmptySegmentBytes, options_.segment_bytes / 2)) {
    closeCurrent();  // deleted below; no ack record needed in a file that goes away
  } else if (in_current || seg.live > 0) {
    written = writeAck({block_id}, /*sync=*/false);
    if (written.isOk() && current_ != seg_id) {
      segments_.at(*current_).acks_of_older.emplace_back(block_id, seg_id);
    }
  }
  Status deleted = deleteFinishedSegments();
  return written.isOk() ? deleted : written;
}

Status SpoolDir::deleteFinishedSegments() {
  std::vector<std::uint64_t> doomed;  // ascending, as the map iterates
  for (const auto& [id, seg] : segments_) {
    if (seg.live == 0 && current_ != id) {
      doomed.push_back(id);
    }
  }
  if (doomed.empty()) {
    return Status::ok();
  }
  auto staying = [&](std::uint64_t id) {
    return segments_.contains(id) && !std::binary_search(doomed.begin(), doomed.end(), id);
  };
  Status result;
  // Acknowledgements of blocks that stay must survive the file they were written to.
  std::vector<std::pair<std::string, std::uint64_t>> carry;
  for (std::uint64_t id : doomed) {
    for (const auto& a : segments_.at(id).acks_of_older) {
      if (staying(a.second)) {
        carry.push_back(a);
      }
    }
  }
  if (!carry.empty()) {
    std::vector<std::string> ids;
    for (const auto& a : carry) {
      ids.push_back(a.first);
    }
    // Synced, because the files holding them are about to be gone for good. On failure those
    // blocks may be sent again after a crash: at-least-once still holds.
    result = writeAck(ids, /*sync=*/true);
    if (result.isOk()) {
      auto& acks = segments_.at(*current_).acks_of_older;
      acks.insert(acks.end(), carry.begin(), carry.end());
    }
  }
  bool removed = false;
  for (std::uint64_t id : doomed) {
    auto seg = segments_.find(id);
    if (::unlink(seg->second.file.c_str()) != 0 && errno != ENOENT) {
      if (result.isOk()) {
        result = makeError(ErrorCode::kUnavailable,
                           "Spool \"{}\": cannot delete finished segment \"{}\": {}.",
                           options_.path, seg->second.file, errnoText(errno));
      }
      continue;
    }
    bytes_ -= seg->second.size;
    segments_.erase(seg);
    removed = true;
  }
  if (removed) {
    if (auto err = syncDir(options_.path); err && result.isOk()) {
      result = makeError(ErrorCode::kUnavailable, "Spool \"{}\": {}.", options_.path, *err);
    }
  }
  return result;
}

}  // namespace ingestd
