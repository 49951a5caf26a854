// Start-up recovery of the spool directory (rules at the top of spool_dir.h): list, settle
// unfinished rewrites, scan every segment, cut torn tails, rewrite and quarantine damage.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "agent/buffer/spool_dir.h"
#include "agent/buffer/spool_files.h"

namespace ingestd {

using spool_files::baseName;
using spool_files::directoryErrorCode;
using spool_files::errnoText;
using spool_files::kCorruptDirName;
using spool_files::kTmpSuffix;
using spool_files::nowUnixMs;
using spool_files::parseSegmentName;
using spool_files::readWholeFile;
using spool_files::sizeOfPath;
using spool_files::syncDir;
using spool_files::writeNewFile;

struct SpoolDir::Listing {
  std::map<std::uint64_t, std::string> segments;  // id -> full path
  std::map<std::uint64_t, std::string> rewrites;  // id -> full path of seg-<id>.spool.tmp
  std::vector<std::string> others;                // full paths, to quarantine
};

Result<std::unique_ptr<SpoolDir>> SpoolDir::open(const SpoolOptions& options,
                                                 SpoolRecovery& report) {
  report = SpoolRecovery{};
  if (options.path.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "The spool directory path is empty.");
  }
  if (options.segment_bytes <= kSegmentHeaderBytes) {
    return makeError(ErrorCode::kInvalidArgument,
                     "Spool \"{}\": segment_bytes ({}) must be larger than a segment header ({}).",
                     options.path, options.segment_bytes, kSegmentHeaderBytes);
  }
  std::unique_ptr<SpoolDir> spool(new SpoolDir(options));
  std::string& p = spool->options_.path;
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
  }
  INGESTD_RETURN_IF_ERROR(spool->prepareDirectory());
  Listing listing;
  INGESTD_RETURN_IF_ERROR(spool->listDirectory(listing, report));
  for (const auto& other : listing.others) {
    spool->quarantineWhole(other, sizeOfPath(other), "is not a spool segment", report);
  }
  for (const auto& [id, tmp] : listing.rewrites) {
    if (listing.segments.contains(id)) {
      // The damaged original is still there: this rewrite did not finish. Recovery redoes it.
      ::unlink(tmp.c_str());
      report.messages.push_back(
          fmt::format("Removed \"{}\", an unfinished rewrite of a damaged segment.", tmp));
    } else if (::rename(tmp.c_str(), spool->segmentPath(id).c_str()) == 0) {
      // The original went to corrupt/ after this rewrite was fsynced: it is the segment now.
      static_cast<void>(syncDir(spool->path()));
      listing.segments[id] = spool->segmentPath(id);
    } else {
      listing.segments[id] = tmp;
    }
  }
  for (const auto& [id, file] : listing.segments) {
    spool->recoverSegment(id, file, report);
  }
  spool->chooseCurrent(report);
  Status deleted = spool->deleteFinishedSegments();
  if (!deleted.isOk()) {
    report.messages.push_back(deleted.message());
  }
  report.blocks_recovered = spool->pending_.size();
  for (const auto& [seq, e] : spool->pending_) {
    report.bytes_recovered += e.length;
  }
  return spool;
}

Status SpoolDir::prepareDirectory() const {
  const std::string& dir = options_.path;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return makeError(directoryErrorCode(ec.value()), "Cannot create spool directory \"{}\": {}.",
                     dir, ec.message());
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return makeError(directoryErrorCode(errno), "Cannot use spool directory \"{}\": {}.", dir,
                     errnoText(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return makeError(ErrorCode::kIo, "Spool directory \"{}\" is not a directory.", dir);
  }
  if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return makeError(ErrorCode::kPermissionDenied, "Spool directory \"{}\" is not writable: {}.",
                     dir, errnoText(errno));
  }
  return Status::ok();
}

Status SpoolDir::listDirectory(Listing& out, SpoolRecovery& report) {
  const std::string& dir = options_.path;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return makeError(directoryErrorCode(errno), "Cannot list spool directory \"{}\": {}.", dir,
                     errnoText(errno));
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) {
      break;
    }
    std::string_view name = e->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) {
    return makeError(ErrorCode::kIo, "Cannot list spool directory \"{}\": {}.", dir,
                     errnoText(err));
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    std::string full = dir + "/" + name;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) {
      continue;  // gone since the listing
    }
    if (name == kCorruptDirName) {
      if (S_ISDIR(st.st_mode)) {
        continue;
      }
      // Something else holds the quarantine's name: move it out of the way, then quarantine it.
      std::string aside = dir + "/corrupt.misplaced";
      if (::rename(full.c_str(), aside.c_str()) == 0) {
        out.others.push_back(aside);
      } else {
        report.messages.push_back(fmt::format(
            "\"{}\" is not a directory and cannot be moved ({}): nothing can be quarantined.", full,
            errnoText(errno)));
      }
      continue;
    }
    bool tmp = false;
    std::optional<std::uint64_t> id = parseSegmentName(name, tmp);
    if (id && S_ISREG(st.st_mode)) {
      (tmp ? out.rewrites : out.segments)[*id] = full;
      next_segment_id_ = std::max(next_segment_id_, *id + 1);
      continue;
    }
    out.others.push_back(full);
  }
  return Status::ok();
}

void SpoolDir::recoverSegment(std::uint64_t id, const std::string& file, SpoolRecovery& report) {
  std::string bytes;
  if (auto err = readWholeFile(file, bytes)) {
    quarantineWhole(file, sizeOfPath(file), fmt::format("cannot be read ({})", *err), report);
    return;
  }
  SegmentScan scan = scanSegment(bytes);
  const std::uint64_t size = bytes.size();
  // A torn tail (an unfinished last write) or trailing zeros (the file grew, its data did not
  // reach the disk) is the normal result of a crash: cut off, not quarantined.
  std::uint64_t keep = size;
  if (scan.header && !scan.damaged.empty()) {
    const DamagedRange& last = scan.damaged.back();
    bool at_end = last.offset + last.length == size;
    bool zeros = at_end && std::string_view(bytes).substr(last.offset).find_first_not_of('\0') ==
                               std::string_view::npos;
    if (at_end && (scan.torn_tail || zeros)) {
      keep = last.offset;
      scan.damaged.pop_back();
    }
  }
  bytes = std::string();  // the blocks are copies; free the file before any rewrite
  if (!scan.header && scan.blocks.empty() && scan.acks.empty()) {
    std::string why = scan.damaged.empty() ? std::string("is empty")
                                           : fmt::format("has no valid segment header ({})",
                                                         scan.damaged.front().reason);
    quarantineWhole(file, size, why, report);
    return;
  }
  report.torn_bytes += size - keep;
  if (!scan.header || !scan.damaged.empty()) {
    recoverDamaged(id, file, std::move(scan), size, report);
    return;
  }
  Segment seg;
  seg.file = file;
  seg.size = keep;
  if (keep < size) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    bool cut = fd >= 0 && ::ftruncate(fd, static_cast<off_t>(keep)) == 0 && ::fsync(fd) == 0;
    int err = errno;
    if (fd >= 0) {
      ::close(fd);
    }
    if (cut) {
      report.messages.push_back(
          fmt::format("Spool segment \"{}\" ended inside a record at offset {} (an unfinished "
                      "write); cut {} bytes off.",
                      file, keep, size - keep));
    } else {
      seg.size = size;
      seg.sealed = true;
      report.messages.push_back(
          fmt::format("Spool segment \"{}\" ends inside a record at offset {} but cannot be cut "
                      "there ({}); it is read as it is and not appended to.",
                      file, keep, errnoText(err)));
    }
  }
  std::vector<SpoolEntry> entries;
  for (const auto& b : scan.blocks) {
    entries.push_back(SpoolEntry{0, b.block.block_id, id, b.offset, b.length, b.block.records,
                                 b.block.raw_bytes, b.block.created_unix_ms});
  }
  adopt(id, std::move(seg), std::move(entries), scan.acknowledged);
}

// What a rewrite of a damaged segment holds: its intact blocks that are not acknowledged nor
// already pending, at their new offsets, then one record with its acknowledgements of blocks
// pending from older segments.
struct SpoolDir::Rewrite {
  std::string bytes;
  std::vector<SpoolEntry> kept;      // at their offsets in `bytes`
  std::vector<SpoolEntry> in_place;  // every intact block, at its offset in the damaged file
  bool needed = false;               // something to keep: otherwise the file just goes
};

SpoolDir::Rewrite SpoolDir::planRewrite(std::uint64_t id, const SegmentScan& scan) const {
  Rewrite r;
  r.bytes = encodeSegmentHeader(
      SegmentHeader{id, scan.header ? scan.header->created_unix_ms : nowUnixMs()});
  for (const auto& b : scan.blocks) {
    const SpoolBlock& blk = b.block;
    r.in_place.push_back(SpoolEntry{0, blk.block_id, id, b.offset, b.length, blk.records,
                                    blk.raw_bytes, blk.created_unix_ms});
    if (scan.acknowledged.contains(blk.block_id) || seq_of_.contains(blk.block_id)) {
      continue;
    }
    std::size_t at = r.bytes.size();
    appendBlockRecord(r.bytes, blk);
    r.kept.push_back(SpoolEntry{0, blk.block_id, id, at, r.bytes.size() - at, blk.records,
                                blk.raw_bytes, blk.created_unix_ms});
  }
  SpoolAck carried;
  for (const auto& acked : scan.acknowledged) {
    if (seq_of_.contains(acked)) {
      carried.block_ids.push_back(acked);
    }
  }
  if (!carried.block_ids.empty()) {
    appendAckRecord(r.bytes, carried);
  }
  r.needed = !r.kept.empty() || !carried.block_ids.empty();
  return r;
}

void SpoolDir::recoverDamaged(std::uint64_t id, const std::string& file, SegmentScan scan,
                              std::uint64_t size, SpoolRecovery& report) {
  // Counted when found, whether or not it can be moved away.
  std::uint64_t damaged_bytes = 0;
  for (const auto& r : scan.damaged) {
    damaged_bytes += r.length;
  }
  report.corrupt_bytes += damaged_bytes;
  // A file that starts with a record instead of a header has no damaged range at all.
  const DamagedRange first =
      scan.damaged.empty() ? DamagedRange{0, 0, "no segment header"} : scan.damaged.front();
  const std::string what =
      fmt::format("Spool segment \"{}\" is damaged at offset {} ({}{})", file, first.offset,
                  first.reason,
                  scan.damaged.size() > 1 ? fmt::format("; {} damaged ranges", scan.damaged.size())
                                          : std::string());
  Rewrite rewrite = planRewrite(id, scan);
  scan.blocks.clear();

  auto keepInPlace = [&](const std::string& why) {
    report.messages.push_back(fmt::format(
        "{}; it cannot be rewritten ({}), so it stays in place, is not appended to, and its {} "
        "intact blocks are read from it.",
        what, why, rewrite.in_place.size()));
    Segment seg;
    seg.file = file;
    seg.size = size;
    seg.sealed = true;
    adopt(id, std::move(seg), std::move(rewrite.in_place), scan.acknowledged);
  };
  const std::string tmp = file + std::string(kTmpSuffix);
  if (rewrite.needed) {
    if (auto err = writeNewFile(options_.write_fn, tmp, rewrite.bytes)) {
      keepInPlace(*err);
      return;
    }
  }
  Result<std::string> moved = quarantine(file);
  if (!moved) {
    if (rewrite.needed) {
      ::unlink(tmp.c_str());
    }
    keepInPlace(moved.error().message);
    return;
  }
  ++report.files_quarantined;
  report.messages.push_back(
      fmt::format("{}; moved to \"{}\" ({} damaged bytes), {} intact blocks kept.", what,
                  moved.value(), damaged_bytes, rewrite.kept.size()));
  if (!rewrite.needed) {
    return;
  }
  Segment seg;
  seg.file = file;
  seg.size = rewrite.bytes.size();
  if (::rename(tmp.c_str(), file.c_str()) == 0) {
    static_cast<void>(syncDir(options_.path));
  } else {
    seg.file = tmp;  // the next start renames it (a rewrite without its segment)
    seg.sealed = true;
  }
  adopt(id, std::move(seg), std::move(rewrite.kept), scan.acknowledged);
}

void SpoolDir::adopt(std::uint64_t id, Segment seg, std::vector<SpoolEntry> entries,
                     const std::set<std::string>& acknowledged) {
  // Acknowledgements here of blocks pending from older segments.
  for (const auto& acked : acknowledged) {
    auto it = seq_of_.find(acked);
    if (it != seq_of_.end()) {
      seg.acks_of_older.emplace_back(acked, pending_.at(it->second).segment_id);
      forget(it->second);
    }
  }
  for (auto& e : entries) {
    // A block id seen before (a copied segment) is the same block: the first copy is kept.
    if (acknowledged.contains(e.block_id) || seq_of_.contains(e.block_id)) {
      continue;
    }
    e.seq = next_seq_++;
    ++seg.live;
    seq_of_.emplace(e.block_id, e.seq);
    created_.insert(e.created_unix_ms);
    pending_.emplace(e.seq, std::move(e));
  }
  bytes_ += seg.size;
  segments_.emplace(id, std::move(seg));
}

void SpoolDir::quarantineWhole(const std::string& file, std::uint64_t size, const std::string& why,
                               SpoolRecovery& report) {
  Result<std::string> moved = quarantine(file);
  if (moved) {
    ++report.files_quarantined;
    report.corrupt_bytes += size;
    report.messages.push_back(
        fmt::format("\"{}\" {}; moved to \"{}\" ({} bytes).", file, why, moved.value(), size));
  } else {
    report.messages.push_back(
        fmt::format("\"{}\" {}; it is ignored. {}", file, why, moved.error().message));
  }
}

Result<std::string> SpoolDir::quarantine(const std::string& file) const {
  const std::string dir = options_.path + "/" + std::string(kCorruptDirName);
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return makeError(ErrorCode::kIo, "Cannot create \"{}\": {}.", dir, errnoText(errno));
  }
  const std::string base = baseName(file);
  std::string dest = dir + "/" + base;
  struct stat st {};
  for (int n = 1; ::lstat(dest.c_str(), &st) == 0; ++n) {
    dest = fmt::format("{}/{}.{}", dir, base, n);
  }
  if (::rename(file.c_str(), dest.c_str()) != 0) {
    return makeError(ErrorCode::kIo, "Cannot move \"{}\" to \"{}\": {}.", file, dest,
                     errnoText(errno));
  }
  // Best effort: the rename happened and cannot be taken back.
  static_cast<void>(syncDir(dir));
  static_cast<void>(syncDir(options_.path));
  return dest;
}

void SpoolDir::chooseCurrent(SpoolRecovery& report) {
  if (segments_.empty()) {
    return;
  }
  auto& [id, seg] = *segments_.rbegin();
  if (seg.sealed) {
    return;
  }
  int fd = ::open(seg.file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) != seg.size) {
    report.messages.push_back(fmt::format(
        "Spool segment \"{}\" cannot be appended to; the next block starts a new segment.",
        seg.file));
    if (fd >= 0) {
      ::close(fd);
    }
    seg.sealed = true;
    return;
  }
  current_ = id;
  fd_ = fd;
}

}  // namespace ingestd
