// TailInput: discovery (glob scan + inotify through FsWatch), reads on libuv's thread pool
// (fileWork), framing and pushing on the loop, acknowledgement tracking and checkpoints.
#include "plugins/inputs/tail/tail_input.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>

#include "agent/core/assert.h"
#include "agent/core/heap.h"
#include "agent/plugin/ack_tracker.h"
#include "plugins/common/cri_lines.h"
#include "plugins/inputs/tail/file_identity.h"

namespace ingestd::inputs {

// One followed file. Shared with the on_ack callbacks of its chunks (through weak_ptr), so an
// acknowledgement that arrives after the file was dropped is simply ignored.
// parser: cri: a file's partial chunks (tag P) joined into whole lines before parsing. stdout and
// stderr interleave in one file, so a line may complete while the other stream's chunks are
// pending; records are handed out in the order their first chunk was read, and the file's
// acknowledged offset never passes the first byte of a pending chunk.
struct CriJoin {
  explicit CriJoin(std::size_t max_bytes) : joiner(max_bytes) {}
  parsers::CriReassembler joiner;
  std::optional<std::uint64_t> start[2];  // stdout, stderr: where their pending chunks begin
  bool cut[2] = {false, false};           // a pending record was cut to max_line_bytes
  struct Held {
    std::string text;
    std::uint64_t begin = 0;
  };
  std::deque<Held> held;  // complete records behind an earlier pending one, by begin
  std::optional<std::uint64_t> earliest() const {
    if (start[0] && start[1]) {
      return std::min(*start[0], *start[1]);
    }
    return start[0] ? start[0] : start[1];
  }
  bool pending() const { return start[0] || start[1]; }
};

struct TailFile {
  std::uint64_t id = 0;
  std::string path;          // where it was opened: the records' "source"
  std::string current_path;  // where the last scan found it (after a rename)
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::string head;  // first bytes, up to kFingerprintBytes (grows with the file)
  Fingerprint fingerprint;
  int fd = -1;
  std::uint64_t read_offset = 0;  // next byte to read
  std::uint64_t size = 0;         // last size seen
  // Bytes read but not yet handed out: the incomplete last line. Invariant:
  // acks.end() + buf.size() == read_offset (with multiline, the lines the record being built
  // holds, CRI chunks pending and a long line being skipped lie in between; see frameAssembled).
  std::string buf;
  FramerState framer;
  AckTracker acks;
  std::shared_ptr<const SourceInfo> source;
  bool reading = false;    // a read is on the thread pool (buf is owned by it)
  bool want_read = false;  // woken while reading or paused: read again
  bool at_eof = false;
  bool deleted = false;
  bool moved = false;              // no longer at its path (rotated or deleted): counted once
  bool move_unclassified = false;  // gone from the globs; the next probe says rotated or deleted
  bool released = false;           // read to the end and closed; kept until every range is acked
  int orphan_scans = 0;            // scans in a row that did not find it while it sat at EOF
  bool release_on_eof = false;     // orphaned long enough: release if the next read finds nothing
  std::optional<Clock::Monotonic> partial_since;
  std::int64_t last_seen_ms = 0;
  std::uint64_t next_read_len = 0;  // grows while reads come back full
  // multiline: the record being built, and a line longer than max_line_bytes whose newline is
  // not read yet (its first max_line_bytes bytes and where it began; the rest is skipped).
  std::optional<Multiline> ml;
  std::unique_ptr<CriJoin> cri;  // parser: cri (never with multiline)
  bool ml_long = false;
  bool ml_long_cut = false;
  std::string ml_long_text;
  std::uint64_t ml_long_begin = 0;
};

namespace {

std::int64_t toUnixMs(Clock::Wall t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string dirOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

constexpr std::uint64_t kMinReadBytes = std::uint64_t{64} * 1024;
// Extra room a fresh read buffer gets beyond one read, for the partial line the next one keeps.
constexpr std::size_t kReadSlack = std::size_t{64} * 1024;

bool hasGlobChars(const std::string& s) { return s.find_first_of("*?[{") != std::string::npos; }

// last_seen is only used to forget old entries (minutes); rounding keeps the checkpoint
// contents stable between scans so unchanged state is not rewritten every interval.
std::int64_t roundMinute(std::int64_t ms) { return ms - ms % 60000; }

}  // namespace

Result<std::unique_ptr<Input>> TailInput::create(const Settings& settings, PluginContext& ctx) {
  return std::unique_ptr<Input>(std::make_unique<TailInput>(settings, ctx));
}

TailInput::TailInput(Settings settings, PluginContext& ctx)
    : settings_(std::move(settings)), ctx_(ctx) {
  framing_.max_line_bytes = settings_.max_line_bytes;
  framing_.mode = settings_.long_lines;
  // "" = the instance's default, <state_dir>/tail-<name>.json.
  checkpoints_ = ctx_.checkpointStore(settings_.state_file);
  state_path_ = checkpoints_->path();
  if (settings_.tag.empty()) {
    settings_.tag = ctx_.name;
  }
  checkpoints_->setOnIdle([this] { maybeFinishStop(); });
}

TailInput::~TailInput() {
  // Handles and work requests call back into this object: stop() must have finished.
  INGESTD_ASSERT(in_flight_ == 0 && open_handles_ == 0);
  checkpoints_->setOnIdle(nullptr);
}

std::size_t TailInput::openFilesForTest() const {
  std::size_t n = 0;
  for (const auto& [id, f] : files_) {
    n += f->released ? 0 : 1;
  }
  return n;
}

std::uint64_t TailInput::checkpointWritesForTest() const { return checkpoints_->writes(); }

void TailInput::queueWork(std::function<void()> work, std::function<void()> done) {
  ++in_flight_;
  ctx_.fileWork(std::move(work), [this, d = std::move(done)] {
    --in_flight_;
    if (d) {
      d();
    }
    maybeFinishStop();
  });
}

void TailInput::countEvent(std::string_view kind, std::uint64_t n) {
  if (ctx_.input_metrics != nullptr && n > 0) {
    ctx_.input_metrics->event(kind).Increment(static_cast<double>(n));
  }
}

void TailInput::countDropped(std::string_view reason, std::uint64_t n) {
  if (ctx_.input_metrics != nullptr && n > 0) {
    ctx_.input_metrics->dropped(reason).Increment(static_cast<double>(n));
  }
}

// --- Input ------------------------------------------------------------------------------------

Status TailInput::start(RecordSink& sink) {
  INGESTD_ASSERT_ON_LOOP();
  sink_ = &sink;
  scan_timer_ = std::make_unique<Timer>(ctx_.loop);
  partial_timer_ = std::make_unique<Timer>(ctx_.loop);
  ++in_flight_;
  checkpoints_->load([this](LoadedCheckpoint loaded) {
    --in_flight_;
    onLoaded(std::move(loaded));
    maybeFinishStop();
  });
  return Status::ok();
}

void TailInput::pause() {
  INGESTD_ASSERT_ON_LOOP();
  paused_ = true;
}

void TailInput::resume() {
  INGESTD_ASSERT_ON_LOOP();
  if (!paused_) {
    return;
  }
  paused_ = false;
  for (const auto& [id, f] : files_) {
    if (f->want_read) {
      issueRead(f);
    }
  }
}

void TailInput::stop(std::function<void()> done) {
  INGESTD_ASSERT_ON_LOOP();
  stop_done_ = std::move(done);
  if (!stopping_) {
    stopping_ = true;
    // Save what is acknowledged now; the pipeline may call checkpoint() again after draining.
    checkpoint();
    scan_timer_.reset();
    partial_timer_.reset();
    for (auto& [dir, watch] : dir_watches_) {
      if (watch != nullptr) {
        watch->close([this] {
          --open_handles_;
          maybeFinishStop();
        });
      }
    }
    dir_watches_.clear();
    // Files with a read in flight are closed when it completes (its data is not pushed, so it
    // stays uncommitted and is read again after a restart).
    for (auto& [id, f] : files_) {
      if (!f->reading) {
        closeFd(f);
      }
    }
  }
  maybeFinishStop();
}

void TailInput::checkpoint() {
  INGESTD_ASSERT_ON_LOOP();
  if (!loaded_) {
    return;  // never overwrite a checkpoint we have not read yet
  }
  // Nothing read, acknowledged, opened, released or matched since the last tick: the entries
  // and the lag are what they were, so idle files cost nothing here.
  if (!*changed_ && !checkpoints_->lastFailed()) {
    return;
  }
  *changed_ = false;
  retireDrained();
  CheckpointData data = snapshot();
  std::uint64_t lag = 0;
  for (const auto& [id, f] : files_) {
    if (!f->released) {
      lag += std::max(f->size, f->read_offset) - f->acks.committed();
    }
  }
  if (ctx_.input_metrics != nullptr && ctx_.input_metrics->checkpoint_lag_bytes != nullptr) {
    ctx_.input_metrics->checkpoint_lag_bytes->Set(static_cast<double>(lag));
  }
  if (last_written_ && *last_written_ == data.entries && !checkpoints_->lastFailed()) {
    return;  // nothing moved; an older saved_at only makes a restart read more, never less
  }
  last_written_ = data.entries;
  checkpoints_->save(data);
}

void TailInput::maybeFinishStop() {
  if (!stopping_ || !stop_done_ || in_flight_ > 0 || open_handles_ > 0 || checkpoints_->writing()) {
    return;
  }
  for (const auto& [id, f] : files_) {
    if (f->fd >= 0) {
      return;  // closed when its read completes
    }
  }
  auto done = std::move(stop_done_);
  stop_done_ = nullptr;
  done();
}

// --- Start-up and discovery ---------------------------------------------------------------------

void TailInput::onLoaded(LoadedCheckpoint loaded) {
  if (stopping_) {
    return;
  }
  const std::string component = "input " + ctx_.instance;
  checkpoint_state_ = loaded.state;
  if (loaded.state == LoadedCheckpoint::State::kCorrupt) {
    // We cannot know what was delivered: read matched files from the head (duplicates) rather
    // than skip (loss).
    ctx_.log.error(component, "{} Files are read again from the head: duplicates are possible.",
                   loaded.error);
    countEvent("checkpoint_corrupt");
  } else if (loaded.state == LoadedCheckpoint::State::kLoaded) {
    saved_at_ms_ = loaded.data.saved_at_unix_ms;
    known_until_ms_ = saved_at_ms_;
    for (auto& e : loaded.data.entries) {
      saved_[Key{e.dev, e.ino}] = e;
    }
    ctx_.log.info(component, "Loaded {} checkpoint entries from \"{}\".",
                  loaded.data.entries.size(), state_path_);
  }
  loaded_ = true;
  scan_timer_->startRepeating(settings_.scan_interval, [this] { scheduleScan(); });
  startScan();
}

void TailInput::scheduleScan() {
  if (stopping_ || !loaded_) {
    return;
  }
  if (scan_in_flight_) {
    rescan_pending_ = true;
    return;
  }
  startScan();
}

void TailInput::startScan() {
  scan_in_flight_ = true;
  scan_started_ms_ = toUnixMs(ctx_.clock.wallNow());
  // A light scan only stats the pattern directories: when each is watched, on a file system
  // whose inotify events are complete, unchanged since the last full scan and no event asked
  // for one, the files matched then still are, and their growth arrives as events. Idle files
  // then cost nothing per scan; a full scan still runs every kLightScansPerFull scans.
  std::vector<std::string> dirs;
  bool watched = true;
  for (const auto& pattern : settings_.paths) {
    std::string dir = dirOf(pattern);
    if (hasGlobChars(dir)) {
      watched = false;
      continue;
    }
    watchDir(dir);
    auto w = dir_watches_.find(dir);
    watched = watched && w != dir_watches_.end() && w->second != nullptr;
    dirs.push_back(std::move(dir));
  }
  const bool first_scan = !first_scan_done_;
  const bool try_light = watched && !first_scan && !full_scan_due_ && !last_dirs_.empty() &&
                         light_scans_ < kLightScansPerFull;
  full_scan_due_ = false;  // an event while this scan runs sets it again
  auto result = std::make_shared<ScanResult>();
  if (try_light) {
    queueWork(
        [result, dirs = std::move(dirs), prev = last_dirs_] {
          result->dirs = statDirs(dirs);
          bool all_complete = true;
          for (const auto& [dir, st] : result->dirs) {
            all_complete = all_complete && st.events_complete;
          }
          result->light = all_complete && result->dirs == prev;
        },
        [this, result] {
          if (!result->light && !stopping_) {
            startFullScan(false, {});  // a directory changed without an event: look at all
            return;
          }
          onScanDone(std::move(*result), false);
        });
    return;
  }
  startFullScan(first_scan, std::move(dirs));
}

void TailInput::startFullScan(bool first_scan, std::vector<std::string> dirs) {
  if (dirs.empty()) {
    for (const auto& pattern : settings_.paths) {
      if (std::string dir = dirOf(pattern); !hasGlobChars(dir)) {
        dirs.push_back(std::move(dir));
      }
    }
  }
  std::set<Key> known;
  for (const auto& [key, id] : by_inode_) {
    known.insert(key);
  }
  const bool want_tail = first_scan && !settings_.read_from_head;
  auto result = std::make_shared<ScanResult>();
  queueWork(
      [result, paths = settings_.paths, exclude = settings_.exclude, known = std::move(known),
       want_tail, dirs = std::move(dirs)] {
        auto states = statDirs(dirs);  // before the glob: a change after it shows next time
        *result = scanAndOpen(paths, exclude, known, want_tail);
        result->dirs = std::move(states);
      },
      [this, result, first_scan] { onScanDone(std::move(*result), first_scan); });
}

// Follows each found file to its current path (counting renames) and wakes those whose size
// differs from what was read. Returns the ids of the files found.
std::set<std::uint64_t> TailInput::matchFound(std::vector<FoundFile>& found, std::int64_t now_ms) {
  std::set<std::uint64_t> matched;
  for (auto& ff : found) {
    Key key{ff.dev, ff.ino};
    auto it = by_inode_.find(key);
    if (it == by_inode_.end()) {
      if (auto s = saved_.find(key); s != saved_.end()) {
        s->second.last_seen_unix_ms = now_ms;  // e.g. could not be opened: keep its offset
      }
      continue;
    }
    const auto& f = files_.at(it->second);
    matched.insert(f->id);
    f->last_seen_ms = now_ms;
    if (ff.path != f->path && !f->moved) {
      f->moved = true;
      countEvent("rotated");
    }
    f->current_path = std::move(ff.path);
    watchDir(dirOf(f->current_path));
    if (ff.size != f->read_offset) {
      wake(f);  // grew (missed event) or shrank (truncation, detected by the read)
    }
  }
  return matched;
}

// Files not at any matched path: rotated away or deleted.
void TailInput::followUnmatched(const std::set<std::uint64_t>& matched) {
  orphans_.clear();
  for (const auto& [id, f] : files_) {
    if (f->released) {
      continue;
    }
    if (matched.count(id) != 0) {
      f->orphan_scans = 0;
      continue;
    }
    orphans_.push_back(id);
    followOrphan(f);
  }
}

// A light scan: the orphans of the last full scan move on, nothing else is looked at.
void TailInput::followOrphans() {
  std::erase_if(orphans_, [this](std::uint64_t id) {
    auto it = files_.find(id);
    if (it == files_.end() || it->second->released) {
      return true;
    }
    followOrphan(it->second);
    return false;
  });
}

void TailInput::followOrphan(const std::shared_ptr<TailFile>& f) {
  // Not at any matched path: rotated away or deleted. Read it to its end, then, after a full
  // scan interval at EOF without growth, let it go. Which of the two it was is counted once
  // the next read's probe tells (a link count of 0 is a deletion, not also a rotation).
  if (!f->moved) {
    f->moved = true;
    f->move_unclassified = true;
  }
  if (f->reading || !f->at_eof || f->want_read) {
    f->orphan_scans = 0;
    return;
  }
  // At its end for a whole scan interval: one last read, and if that finds nothing new the
  // file is released (onRead). Bytes appended later by a writer that never reopens are not
  // followed.
  if (++f->orphan_scans >= 2) {
    f->release_on_eof = true;
  }
  wake(f);
}

// Checkpoint entries of files not seen for forget_after are dropped.
void TailInput::forgetUnseen(std::int64_t now_ms) {
  const std::int64_t forget_ms = settings_.forget_after.count();
  for (auto it = saved_.begin(); it != saved_.end();) {
    if (now_ms - it->second.last_seen_unix_ms > forget_ms) {
      it = saved_.erase(it);
    } else {
      ++it;
    }
  }
}

void TailInput::onScanDone(ScanResult result, bool first_scan) {
  scan_in_flight_ = false;
  if (stopping_) {
    for (auto& o : result.opened) {
      if (o.file.fd >= 0) {
        closeFd(o.file.fd);
      }
    }
    return;
  }
  last_dirs_ = std::move(result.dirs);
  if (result.light) {
    // Nothing was globbed: what matched at the last full scan still does. Orphans move on; the
    // time up to which every file is known does not (only a full scan proves that).
    ++light_scans_;
    ++light_scans_total_;
    followOrphans();
    expireCopySources(toUnixMs(ctx_.clock.wallNow()));
  } else {
    light_scans_ = 0;
    ++full_scans_total_;
    *changed_ = true;
    // Files we have a checkpoint for first: one whose content changed while we were down
    // (copytruncate) tells which new file is its copy.
    std::stable_partition(result.opened.begin(), result.opened.end(), [this](const auto& o) {
      return saved_.count(Key{o.file.dev, o.file.ino}) != 0;
    });
    for (auto& o : result.opened) {
      onOpened(std::move(o.file), o.path, first_scan);
    }
    const std::int64_t now_ms = roundMinute(toUnixMs(ctx_.clock.wallNow()));
    followUnmatched(matchFound(result.found, now_ms));
    first_scan_done_ = true;
    expireCopySources(toUnixMs(ctx_.clock.wallNow()));
    known_until_ms_ = scan_started_ms_;  // everything matched at scan start is now known
    retireDrained();
    forgetUnseen(now_ms);
  }
  if (rescan_pending_) {
    rescan_pending_ = false;
    startScan();
  }
}

std::uint64_t TailInput::newFileStart(const OpenedFile& opened, bool first_scan) const {
  if (!first_scan || settings_.read_from_head) {
    return 0;  // created after we started: every line of it is new
  }
  if (checkpoint_state_ == LoadedCheckpoint::State::kCorrupt) {
    return 0;
  }
  if (checkpoint_state_ == LoadedCheckpoint::State::kLoaded && opened.mtime_ms >= saved_at_ms_) {
    return 0;  // written while we were down (e.g. the new file after a rotation)
  }
  return opened.tail_boundary;
}

// Released moments ago (renamed out of the globs and back) and not yet fully acknowledged:
// revive it, so its acknowledgement tracking carries on where it was.
bool TailInput::revive(const OpenedFile& opened, const std::string& path) {
  for (const auto& [id, old] : files_) {
    if (old->released && !old->deleted && old->dev == opened.dev && old->ino == opened.ino &&
        fingerprintMatches(old->fingerprint, opened.head) && old->read_offset <= opened.size) {
      old->released = false;
      old->moved = false;
      old->orphan_scans = 0;
      old->release_on_eof = false;
      old->fd = opened.fd;
      old->current_path = path;
      old->size = opened.size;
      by_inode_[Key{opened.dev, opened.ino}] = old->id;
      watchDir(dirOf(path));
      issueRead(old);
      return true;
    }
  }
  return false;
}

// The committed offset of a checkpoint entry with the same identity (device, inode and
// fingerprint), consumed; nullopt for a file we know nothing about.
std::optional<std::uint64_t> TailInput::resumeOffset(const OpenedFile& opened,
                                                     const std::string& path) {
  const std::string component = "input " + ctx_.instance;
  auto s = saved_.find(Key{opened.dev, opened.ino});
  if (s == saved_.end()) {
    return std::nullopt;
  }
  std::optional<std::uint64_t> start;
  Fingerprint saved_fp{s->second.fingerprint_len, s->second.fingerprint_hash};
  if (fingerprintMatches(saved_fp, opened.head)) {
    start = s->second.offset;
    if (*start > opened.size) {
      ctx_.log.warn(component, "\"{}\" is shorter than its checkpoint; reading from the head.",
                    path);
      countEvent("truncated_file");
      start = 0;
    }
  } else {
    ctx_.log.debug(component, "\"{}\" reuses the inode of a checkpointed file; it is new.", path);
    // Truncated while we were down (copytruncate): its copy may turn up under another name.
    if (saved_fp.len == kFingerprintBytes) {
      rememberCopySource(
          CopySource{saved_fp, "", s->second.offset, false, path, toUnixMs(ctx_.clock.wallNow())});
    }
  }
  saved_.erase(s);
  return start;
}

void TailInput::onOpened(OpenedFile opened, const std::string& path, bool first_scan) {
  *changed_ = true;
  const std::string component = "input " + ctx_.instance;
  if (opened.fd < 0) {
    if (opened.err != ENOENT) {
      // Counted once per path until it opens; the scan tries again every scan_interval.
      if (open_failed_.insert(path).second) {
        countEvent("open_failed");
      }
      ctx_.log.logLimited(LogLevel::kWarn, path, std::chrono::seconds(60), component,
                          fmt::format("Cannot open \"{}\": {}.", path, std::strerror(opened.err)));
    }
    return;
  }
  open_failed_.erase(path);
  Key key{opened.dev, opened.ino};
  if (stopping_ || by_inode_.count(key) != 0) {
    closeFd(opened.fd);
    return;
  }
  if (revive(opened, path)) {
    return;
  }
  std::optional<std::uint64_t> start = resumeOffset(opened, path);
  if (!start && settings_.detect_copies) {
    bool defer = false;
    start = copyStart(opened, path, defer);
    if (defer) {
      closeFd(opened.fd);  // the next scan opens it again, once the copy is complete
      return;
    }
  }
  auto f = std::make_shared<TailFile>();
  f->id = next_id_++;
  f->path = path;
  f->current_path = path;
  f->dev = opened.dev;
  f->ino = opened.ino;
  f->head = std::move(opened.head);
  f->fingerprint = fingerprintOf(f->head);
  f->fd = opened.fd;
  f->read_offset = start ? *start : newFileStart(opened, first_scan);
  f->size = opened.size;
  f->acks = AckTracker(f->read_offset);
  f->last_seen_ms = roundMinute(toUnixMs(ctx_.clock.wallNow()));
  const bool json = ctx_.parser_name == "json";
  RecordFormat format = json ? RecordFormat::kJsonLines : RecordFormat::kLines;
  if (settings_.multiline) {
    f->ml = newMultiline();
    format = json ? RecordFormat::kFramedJson : RecordFormat::kFramed;
  } else if (ctx_.parser_name == "cri") {
    f->cri = std::make_unique<CriJoin>(settings_.max_line_bytes);
    format = RecordFormat::kFramed;
  }
  f->source = std::make_shared<const SourceInfo>(
      SourceInfo{ctx_.name, settings_.tag, path, format, ctx_.parser});
  files_[f->id] = f;
  by_inode_[key] = f->id;
  countEvent("opened");
  ctx_.log.debug(component, "Following \"{}\" from offset {}.", path, f->read_offset);
  watchDir(dirOf(path));
  issueRead(f);
}

// --- copytruncate ------------------------------------------------------------------------------

std::optional<std::uint64_t> TailInput::copyStart(const OpenedFile& opened, const std::string& path,
                                                  bool& defer) {
  const std::string component = "input " + ctx_.instance;
  // A copy being written right now (logrotate copies, then truncates) may be shorter than its
  // fingerprint or than what was read of the original: wait for it rather than guess.
  // At most 5 s per file: one that keeps changing is decided on what it holds by then.
  const std::int64_t now_ms = toUnixMs(ctx_.clock.wallNow());
  const Key key{opened.dev, opened.ino};
  const auto since = deferred_since_.try_emplace(key, now_ms).first->second;
  const bool fresh = now_ms - opened.mtime_ms < 1000 && now_ms - since < 5000;
  enum class Match { kNo, kYes, kMaybe };
  auto match = [&](const Fingerprint& fp, const std::string& head, std::uint64_t end) {
    if (opened.head.size() < kFingerprintBytes) {
      const bool prefix = !head.empty() && head.compare(0, opened.head.size(), opened.head) == 0;
      return prefix && fresh ? Match::kMaybe : Match::kNo;
    }
    if (!fingerprintMatches(fp, opened.head)) {
      return Match::kNo;
    }
    return end > opened.size && fresh ? Match::kMaybe : Match::kYes;
  };
  auto take = [&](std::uint64_t end, const std::string& of) -> std::optional<std::uint64_t> {
    deferred_since_.erase(key);
    // A complete copy shorter than what was read: the original grew after the copy was taken,
    // and all of the copy was read already.
    const std::uint64_t start = std::min(end, opened.size);
    ctx_.log.info(component,
                  "\"{}\" starts with the same bytes as \"{}\": a copy (copytruncate); reading "
                  "it from offset {}, where the lines already read end.",
                  path, of, start);
    return start;
  };
  auto undecided = [&] {
    defer = true;
    return std::nullopt;
  };
  for (const auto& [id, g] : files_) {
    if (g->released || (g->dev == opened.dev && g->ino == opened.ino) ||
        g->fingerprint.len != kFingerprintBytes) {
      continue;
    }
    switch (match(g->fingerprint, g->head, g->acks.end())) {
      case Match::kNo: continue;
      case Match::kMaybe: return undecided();
      case Match::kYes: return take(g->acks.end(), g->current_path);
    }
  }
  for (auto it = copy_sources_.begin(); it != copy_sources_.end(); ++it) {
    switch (match(it->fingerprint, it->head, it->complete_end)) {
      case Match::kNo: continue;
      case Match::kMaybe: return undecided();
      case Match::kYes: {
        auto start = take(it->complete_end, it->path);
        copy_sources_.erase(it);
        return start;
      }
    }
  }
  deferred_since_.erase(key);
  return std::nullopt;
}

void TailInput::rememberCopySource(CopySource source) {
  constexpr std::size_t kMaxCopySources = 64;
  if (copy_sources_.size() >= kMaxCopySources) {
    if (copy_sources_.front().partial) {
      countDropped("truncated_file", 1);
    }
    copy_sources_.erase(copy_sources_.begin());
  }
  copy_sources_.push_back(std::move(source));
}

void TailInput::expireCopySources(std::int64_t now_ms) {
  // logrotate copies, then truncates at once; a copy not seen within a minute never will be.
  constexpr std::int64_t kCopyWindowMs = 60000;
  for (auto it = copy_sources_.begin(); it != copy_sources_.end();) {
    if (now_ms - it->at_ms <= kCopyWindowMs) {
      ++it;
      continue;
    }
    if (it->partial) {
      countDropped("truncated_file", 1);  // the held-back partial line had no copy
    }
    it = copy_sources_.erase(it);
  }
  for (auto it = deferred_since_.begin(); it != deferred_since_.end();) {
    it = now_ms - it->second > kCopyWindowMs ? deferred_since_.erase(it) : std::next(it);
  }
}

// --- Reading ------------------------------------------------------------------------------------

void TailInput::wake(const std::shared_ptr<TailFile>& f) {
  if (f->released || stopping_) {
    return;
  }
  if (f->reading || paused_) {
    f->want_read = true;
    return;
  }
  issueRead(f);
}

void TailInput::issueRead(const std::shared_ptr<TailFile>& f) {
  if (f->reading || f->released || f->fd < 0 || stopping_) {
    return;
  }
  if (paused_) {
    f->want_read = true;
    return;
  }
  f->reading = true;
  f->want_read = false;
  struct ReadJob {
    std::string buf;
    std::size_t old_size = 0;
    std::size_t len = 0;
    ReadOutcome outcome;
    // Issued after a scan missed the file: only such a probe may say it was renamed (one
    // issued before could have run before the file was deleted and still see a link).
    bool issued_unmatched = false;
  };
  auto job = std::make_shared<ReadJob>();
  job->issued_unmatched = f->move_unclassified;
  // A warm buffer from the read pool (chunks hand theirs back once encoded), holding the
  // partial line left from the last read.
  job->buf = readBufferPool().take();
  job->old_size = f->buf.size();
  job->buf.assign(f->buf);
  f->buf.clear();
  // Size the read by what we expect to find (last known size, or twice the last read when it
  // filled its buffer): a chunk's buffer travels through the pipeline, so a few new bytes must
  // not pin a read_chunk_bytes allocation, and a slow file must not cost a big memset per wakeup.
  std::uint64_t expect = f->size > f->read_offset ? f->size - f->read_offset : 0;
  const std::uint64_t chunk = settings_.read_chunk_bytes;
  std::uint64_t len = std::clamp<std::uint64_t>(std::max(expect, f->next_read_len),
                                                std::min(kMinReadBytes, chunk), chunk);
  job->len = static_cast<std::size_t>(len);
  queueWork(
      [job, fd = f->fd, offset = f->read_offset, fp = f->fingerprint] {
        if (job->buf.capacity() < job->old_size + job->len) {
          // Room for the leftover line of the next read too, so the buffer can be reused.
          std::string bigger;
          bigger.reserve(job->old_size + job->len + kReadSlack);
          bigger.assign(job->buf);
          job->buf = std::move(bigger);
        }
        job->buf.resize(job->old_size + job->len);
        job->outcome = readAt(fd, offset, job->buf.data() + job->old_size, job->len, fp);
        job->buf.resize(job->old_size +
                        static_cast<std::size_t>(std::max<std::int64_t>(job->outcome.n, 0)));
        if (job->buf.capacity() > 2 * job->buf.size() + 4096) {
          // A few bytes in a big buffer: they travel in a small copy (made off the loop), and
          // the big buffer goes back to the pool for the next read.
          std::string small(job->buf);
          readBufferPool().give(std::move(job->buf));
          job->buf = std::move(small);
        }
      },
      [this, f, job] {
        f->next_read_len = job->outcome.n == static_cast<std::int64_t>(job->len)
                               ? std::min<std::uint64_t>(2 * job->len, settings_.read_chunk_bytes)
                               : kMinReadBytes;
        onRead(f, std::move(job->buf), job->old_size, job->outcome, job->issued_unmatched);
      });
}

void TailInput::onRead(const std::shared_ptr<TailFile>& f, std::string buf, std::size_t old_size,
                       ReadOutcome outcome, bool issued_unmatched) {
  *changed_ = true;
  f->reading = false;
  f->buf = std::move(buf);
  if (stopping_) {
    // Not pushed: it stays uncommitted and is read again after a restart.
    closeFd(f);
    return;
  }
  if (outcome.n < 0) {
    ctx_.log.logLimited(LogLevel::kWarn, f->path, std::chrono::seconds(60),
                        "input " + ctx_.instance,
                        fmt::format("Cannot read \"{}\": {}; retrying at the next scan.", f->path,
                                    std::strerror(static_cast<int>(-outcome.n))));
    f->at_eof = true;
    return;
  }
  if (outcome.n > 0) {
    auto n = static_cast<std::uint64_t>(outcome.n);
    // Keep the fingerprint growing with the file until it covers kFingerprintBytes.
    std::uint64_t have = f->head.size();
    if (have < kFingerprintBytes && f->read_offset <= have && f->read_offset + n > have) {
      std::size_t from = static_cast<std::size_t>(have - f->read_offset);
      std::size_t take = std::min<std::size_t>(kFingerprintBytes - have, n - from);
      f->head.append(f->buf.data() + old_size + from, take);
      f->fingerprint = fingerprintOf(f->head);
    }
    f->read_offset += n;
    f->size = std::max(f->size, f->read_offset);
    f->at_eof = false;
    f->orphan_scans = 0;
    f->release_on_eof = false;
    frame(f, false);
    issueRead(f);  // keep going while data is there; each file queues behind the others
    return;
  }
  if (outcome.probed) {
    if (outcome.size < f->read_offset || !outcome.fingerprint_ok) {
      restartAfterTruncation(f, outcome.size);
      issueRead(f);
      return;
    }
    f->size = outcome.size;
    if (outcome.nlink == 0) {
      // Deleted: counted once, and never also as a rotation (a probe may see the deletion
      // before a scan misses the file, or after).
      if (!f->deleted) {
        f->deleted = true;
        countEvent("deleted");
      }
      f->moved = true;
      f->move_unclassified = false;
    } else if (f->move_unclassified && issued_unmatched) {
      f->move_unclassified = false;
      countEvent("rotated");
    }
    if (outcome.size > f->read_offset) {
      issueRead(f);
      return;
    }
  }
  f->at_eof = true;
  if (f->want_read) {
    issueRead(f);
    return;
  }
  if (f->release_on_eof) {
    release(f);
    return;
  }
  if ((!f->buf.empty() && f->partial_since) || (f->ml && f->ml->hasPending())) {
    armPartialTimer();
  }
}

void TailInput::frame(const std::shared_ptr<TailFile>& f, bool flush) {
  *changed_ = true;
  if (f->ml || f->cri) {
    frameAssembled(f, flush, false);
    return;
  }
  if (f->buf.empty()) {
    f->partial_since.reset();
    return;
  }
  FrameResult r = frameLines(f->buf, framing_, f->framer, flush);
  if (r.consumed == 0) {
    if (!f->partial_since) {
      f->partial_since = ctx_.clock.now();
    }
    return;
  }
  std::string data;
  if (r.verbatim) {
    // The common case: the records are the front of the buffer; hand it over without copying.
    std::string rest = f->buf.substr(r.consumed);
    f->buf.resize(r.consumed);
    data = std::move(f->buf);
    f->buf = std::move(rest);
  } else {
    data = std::move(r.out);
    f->buf.erase(0, r.consumed);
  }
  const std::uint64_t start = f->acks.end();
  const std::uint64_t end = start + r.consumed;
  countDropped("truncated", r.truncated_lines);
  countDropped("split", r.split_lines);
  if (r.records > 0) {
    const std::size_t bytes = data.size();
    pushChunk(f, std::move(data), r.records, end, bytes);
  } else {
    f->acks.addAcked(start, end);
  }
  INGESTD_ASSERT(f->acks.end() + f->buf.size() == f->read_offset);
  if (f->buf.empty()) {
    f->partial_since.reset();
  } else {
    f->partial_since = ctx_.clock.now();  // a new incomplete line starts waiting now
  }
}

void TailInput::pushChunk(const std::shared_ptr<TailFile>& f, std::string data,
                          std::uint64_t records, std::uint64_t end, std::size_t bytes) {
  const std::uint64_t start = f->acks.end();
  AckTracker::Ticket ticket = f->acks.add(start, end);
  RecordChunk chunk;
  chunk.source = f->source;
  chunk.records = records;
  chunk.time = ctx_.clock.wallNow();
  chunk.on_ack = [weak = std::weak_ptr<TailFile>(f), ticket, changed = changed_] {
    *changed = true;
    if (auto file = weak.lock()) {
      file->acks.ack(ticket);
    }
  };
  if (ctx_.input_metrics != nullptr) {
    ctx_.input_metrics->records->Increment(static_cast<double>(records));
    ctx_.input_metrics->bytes->Increment(static_cast<double>(bytes));
  }
  chunk.data = std::move(data);
  sink_->push(std::move(chunk));
}

// The records a Multiline (or CriJoin) emits during one call, as one kFramed chunk.
struct MultilineChunk {
  explicit MultilineChunk(std::uint64_t start) : end(start) {}
  void add(const MultilineRecord& rec) {
    addText(rec.text);
    end = rec.range.end;
  }
  void addText(std::string_view text) {
    if (records == 0) {
      data = readBufferPool().take();
      data.clear();
    }
    appendFramed(data, text);
    ++records;
    bytes += text.size();
  }
  std::string data;
  std::uint64_t records = 0;
  std::size_t bytes = 0;  // text bytes (without the frame headers)
  std::uint64_t end = 0;  // where the last record's input ends
};

void TailInput::expireMultiline(const std::shared_ptr<TailFile>& f, Clock::Monotonic now) {
  MultilineChunk out(f->acks.end());
  f->ml->flushExpired(now, [&out](const MultilineRecord& rec) { out.add(rec); });
  if (out.records > 0) {
    *changed_ = true;
    pushChunk(f, std::move(out.data), out.records, out.end, out.bytes);
  }
}

// One line (or the kept part of a long one) of a file with parser: cri. A full line with nothing
// pending goes out as it is; a P chunk waits; a record completed while one begun before it is
// pending waits in `held` until everything begun before it is out.
void TailInput::criLine(CriJoin& j, std::string_view line, std::uint64_t from, bool cut,
                        MultilineChunk& out, std::uint64_t& truncated) {
  const auto parts = parsers::splitCriLine(line);
  const int s = parts ? (parts->stream == "stdout" ? 0 : 1) : -1;
  const std::uint64_t cut_before = j.joiner.truncatedBytes();
  const std::optional<std::string_view> done = j.joiner.feed(line);
  const bool joined_cut = j.joiner.truncatedBytes() > cut_before;
  if (!done) {  // a P chunk (always CRI)
    INGESTD_ASSERT(s >= 0);
    if (!j.start[s]) {
      j.start[s] = from;
    }
    j.cut[s] = j.cut[s] || cut || joined_cut;
    return;
  }
  std::uint64_t begin = from;
  if (s >= 0 && j.start[s]) {
    begin = *j.start[s];
    cut = cut || j.cut[s];
    j.start[s].reset();
    j.cut[s] = false;
  }
  truncated += (cut || joined_cut) ? 1 : 0;
  const std::optional<std::uint64_t> first = j.earliest();
  if (j.held.empty() && (!first || begin < *first)) {
    out.addText(*done);  // the common case: nothing begun before it is pending
    return;
  }
  auto at = std::find_if(j.held.begin(), j.held.end(),
                         [begin](const CriJoin::Held& h) { return h.begin > begin; });
  j.held.insert(at, CriJoin::Held{std::string(*done), begin});
  while (!j.held.empty() && (!first || j.held.front().begin < *first)) {
    out.addText(j.held.front().text);
    j.held.pop_front();
  }
}

// The file ends: chunks still pending are records (stdout's first, the order in which
// CriReassembler::flush returns them), and everything held goes out.
void TailInput::criFinish(CriJoin& j, MultilineChunk& out, std::uint64_t& truncated) {
  for (int s = 0; s < 2; ++s) {
    if (!j.start[s]) {
      continue;
    }
    const std::optional<std::string_view> done = j.joiner.flush();
    INGESTD_ASSERT(done.has_value());
    truncated += j.cut[s] ? 1 : 0;
    const std::uint64_t b = *j.start[s];
    auto at = std::find_if(j.held.begin(), j.held.end(),
                           [b](const CriJoin::Held& h) { return h.begin > b; });
    j.held.insert(at, CriJoin::Held{std::string(done.value_or("")), b});
    j.start[s].reset();
    j.cut[s] = false;
  }
  for (const CriJoin::Held& h : j.held) {
    out.addText(h.text);
  }
  j.held.clear();
}

Multiline TailInput::newMultiline() const {
  auto ml = Multiline::create(*settings_.multiline);
  INGESTD_ASSERT(ml.isOk());  // the patterns compiled when the config was parsed
  return std::move(ml).value();
}

// Assembled framing (multiline, or CRI chunks): every complete line goes into the file's
// Multiline (or CriJoin, see criLine) with the byte range it
// covers (terminator included), and the records it completes go out as one kFramed chunk whose
// range runs from acks.end() to the end of the last record. The records tile the file, so the
// acknowledged offset never passes a line of a record not yet acknowledged whole, and the lines
// the record being built holds are read again after a restart. A line longer than
// max_line_bytes is cut to it (counted "truncated"); its range covers the whole line, so its
// first bytes are kept until its newline is read. `flush`: a trailing incomplete line is a
// line (partial_line_timeout); `finish`: the file ends here, everything held is emitted.
void TailInput::frameAssembled(const std::shared_ptr<TailFile>& f, bool flush, bool finish) {
  TailFile& t = *f;
  MultilineChunk out(t.acks.end());
  auto sink = [&out](const MultilineRecord& rec) { out.add(rec); };
  std::uint64_t truncated = 0;
  const Clock::Monotonic now = ctx_.clock.now();
  bool cut = false;  // the line being pushed was cut to max_line_bytes (CRI: counted per record)
  auto push = [&](std::string_view line, std::uint64_t from, std::uint64_t to) {
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (t.cri) {
      criLine(*t.cri, line, from, cut, out, truncated);
    } else {
      t.ml->push(line, ByteRange{from, to}, now, sink);
    }
    cut = false;
  };
  const std::size_t max = settings_.max_line_bytes;
  const std::string_view in(t.buf);
  const std::uint64_t base = t.read_offset - in.size();  // file offset of buf[0]
  std::size_t pos = 0;
  while (pos < in.size()) {
    const auto* nl = static_cast<const char*>(std::memchr(in.data() + pos, '\n', in.size() - pos));
    const std::size_t line_end =
        nl != nullptr ? static_cast<std::size_t>(nl - in.data()) : in.size();
    if (t.ml_long) {
      pos = nl != nullptr ? line_end + 1 : in.size();  // the rest of a long line: skipped
      if (nl != nullptr) {
        cut = t.ml_long_cut;
        push(t.ml_long_text, t.ml_long_begin, base + pos);
        t.ml_long = false;
        std::string().swap(t.ml_long_text);
      }
      continue;
    }
    const std::size_t len = line_end - pos;
    if (len > max) {
      if (t.cri) {
        cut = true;
      } else {
        ++truncated;
      }
      if (nl != nullptr) {
        push(in.substr(pos, max), base + pos, base + line_end + 1);
        pos = line_end + 1;
        continue;
      }
      t.ml_long = true;
      t.ml_long_cut = true;
      t.ml_long_text.assign(in.substr(pos, max));
      t.ml_long_begin = base + pos;
      pos = in.size();
      break;
    }
    if (nl == nullptr) {
      if (flush && len > 0) {
        push(in.substr(pos), base + pos, base + in.size());
        pos = in.size();
      }
      break;
    }
    push(in.substr(pos, len), base + pos, base + line_end + 1);
    pos = line_end + 1;
  }
  if (pos > 0) {
    // The read buffer goes back to the pool; the incomplete line (if any) waits in a copy.
    std::string rest(in.substr(pos));
    readBufferPool().give(std::move(t.buf));
    t.buf = std::move(rest);
  }
  if (finish) {
    if (t.ml_long) {
      cut = t.ml_long_cut;
      push(t.ml_long_text, t.ml_long_begin, t.read_offset);
      t.ml_long = false;
      std::string().swap(t.ml_long_text);
    }
    if (t.cri) {
      criFinish(*t.cri, out, truncated);
    } else {
      t.ml->flush(sink);
    }
  }
  const std::uint64_t next = t.ml_long ? t.ml_long_begin : t.read_offset - t.buf.size();
  if (t.cri) {
    // Everything before the first pending chunk (or the next line) is in records now.
    out.end = std::min(next, t.cri->earliest().value_or(next));
  }
  countDropped("truncated", truncated);
  if (out.records > 0) {
    pushChunk(f, std::move(out.data), out.records, out.end, out.bytes);
  }
  INGESTD_ASSERT(t.acks.end() == (t.cri ? out.end : t.ml->pendingBegin().value_or(next)));
  if (t.buf.empty()) {
    t.partial_since.reset();
  } else if (pos > 0 || !t.partial_since) {
    t.partial_since = now;  // a new incomplete line starts waiting now
  }
}

void TailInput::restartAfterTruncation(const std::shared_ptr<TailFile>& f, std::uint64_t size) {
  *changed_ = true;
  ctx_.log.warn("input " + ctx_.instance,
                "\"{}\" was truncated (size {} < offset {} or its first bytes changed); reading it "
                "again from the start.",
                f->current_path, size, f->read_offset);
  countEvent("truncated_file");
  // An incomplete last line is never shipped cut: a copy (copytruncate) holds it whole and is
  // read from where the complete lines ended; without a copy it is counted as lost.
  // With multiline, the lines of the record being built count as not handed out: acks.end() is
  // where it begins, so a copy is read from there and the record is built again from it.
  const bool held = !f->buf.empty() || f->ml_long || (f->ml && f->ml->hasPending()) ||
                    (f->cri && f->cri->pending());
  if (f->fingerprint.len == kFingerprintBytes) {
    rememberCopySource(CopySource{f->fingerprint, f->head, f->acks.end(), held, f->current_path,
                                  toUnixMs(ctx_.clock.wallNow())});
  } else if (held) {
    countDropped("truncated_file", 1);
  }
  if (f->ml) {
    f->ml = newMultiline();
  }
  if (f->cri) {
    f->cri = std::make_unique<CriJoin>(settings_.max_line_bytes);
  }
  f->ml_long = false;
  std::string().swap(f->ml_long_text);
  f->acks.reset(0);  // acks of ranges from before carry the old generation and are ignored
  f->read_offset = 0;
  f->buf.clear();
  f->framer = FramerState{};
  f->head.clear();
  f->fingerprint = Fingerprint{};
  f->partial_since.reset();
  f->size = size;
  f->at_eof = false;
}

void TailInput::release(const std::shared_ptr<TailFile>& f) {
  *changed_ = true;
  // The file is finished: its incomplete last line is a record, and so is a multiline record
  // being built.
  if (f->ml || f->cri) {
    frameAssembled(f, true, true);
  } else {
    frame(f, true);
  }
  if (f->move_unclassified) {
    f->move_unclassified = false;
    countEvent(f->deleted ? "deleted" : "rotated");
  }
  f->released = true;
  Key key{f->dev, f->ino};
  if (auto it = by_inode_.find(key); it != by_inode_.end() && it->second == f->id) {
    by_inode_.erase(it);
  }
  ctx_.log.debug("input " + ctx_.instance, "Released \"{}\" at offset {}.", f->current_path,
                 f->read_offset);
  closeFd(f);
}

void TailInput::closeFd(const std::shared_ptr<TailFile>& f) {
  if (f->fd >= 0) {
    closeFd(f->fd);
    f->fd = -1;
  }
}

void TailInput::closeFd(int fd) {
  // close() may block (e.g. on a network file system): off the loop like the reads.
  queueWork([fd] { ::close(fd); }, nullptr);
}

namespace {

// What the checkpoint keeps of a followed file: its identity and the acknowledged offset.
CheckpointEntry checkpointEntryOf(const TailFile& f) {
  return CheckpointEntry{
      f.dev,          f.ino,         f.fingerprint.len, f.fingerprint.hash, f.acks.committed(),
      f.current_path, f.last_seen_ms};
}

}  // namespace

void TailInput::retireDrained() {
  for (auto it = files_.begin(); it != files_.end();) {
    const auto& f = it->second;
    if (f->released && f->acks.pending() == 0 && !f->reading) {
      if (!f->deleted) {
        // Still on disk under another name: remember where it ended, in case a restart finds
        // it under a matched name.
        saved_[Key{f->dev, f->ino}] = checkpointEntryOf(*f);
      }
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
}

CheckpointData TailInput::snapshot() {
  CheckpointData data;
  // File timestamps come from a coarse kernel clock that can lag the wall clock by a tick or
  // more; the margin errs towards reading a file again from its head (duplicates), not skipping.
  constexpr std::int64_t kMtimeMarginMs = 2000;
  data.saved_at_unix_ms = known_until_ms_ > kMtimeMarginMs ? known_until_ms_ - kMtimeMarginMs : 0;
  std::map<Key, CheckpointEntry> all = saved_;
  for (const auto& [id, f] : files_) {
    if (f->deleted && f->released) {
      continue;
    }
    all[Key{f->dev, f->ino}] = checkpointEntryOf(*f);
  }
  data.entries.reserve(all.size());
  for (auto& [key, e] : all) {
    data.entries.push_back(std::move(e));
  }
  return data;
}

// --- Partial lines ------------------------------------------------------------------------------

void TailInput::armPartialTimer() {
  const bool ml_timeout = settings_.multiline && settings_.multiline->timeout.count() > 0;
  if ((settings_.partial_line_timeout.count() == 0 && !ml_timeout) || !partial_timer_ ||
      stopping_) {
    return;
  }
  std::optional<Clock::Monotonic> due;
  auto consider = [&due](Clock::Monotonic t) {
    if (!due || t < *due) {
      due = t;
    }
  };
  for (const auto& [id, f] : files_) {
    // Only files waiting at their end: the others arm the timer when they get there (with
    // unread data behind it, the newline or the next line of a record may just not be read).
    if (f->released || f->reading || !f->at_eof) {
      continue;
    }
    if (f->partial_since && !f->buf.empty() && settings_.partial_line_timeout.count() > 0) {
      consider(*f->partial_since + settings_.partial_line_timeout);
    }
    if (f->ml) {
      if (auto d = f->ml->deadline()) {
        consider(*d);
      }
    }
  }
  if (!due) {
    partial_timer_->stop();
    return;
  }
  auto now = ctx_.clock.now();
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(*due - now);
  delay = std::max(delay, std::chrono::milliseconds(10));
  partial_timer_->start(delay, [this] { onPartialTimer(); });
}

void TailInput::onPartialTimer() {
  auto now = ctx_.clock.now();
  for (const auto& [id, f] : files_) {
    // Only a line at the end of the file is complete-or-timed-out; with unread data behind it,
    // the newline may simply not have been read yet.
    if (f->released || f->reading || !f->at_eof) {
      continue;
    }
    if (settings_.partial_line_timeout.count() > 0 && f->partial_since && !f->buf.empty() &&
        now - *f->partial_since >= settings_.partial_line_timeout) {
      frame(f, true);
    }
    if (f->ml) {
      expireMultiline(f, now);
    }
  }
  armPartialTimer();
}

// --- Directory events ---------------------------------------------------------------------------

void TailInput::watchDir(const std::string& dir) {
  if (stopping_ || dir_watches_.count(dir) != 0) {
    return;
  }
  auto watch = std::make_unique<FsWatch>(ctx_.loop);
  ++open_handles_;
  Status st = watch->start(dir, [this](const FsEvent& event) { onDirEvent(event); });
  if (!st) {
    watch->close([this] {
      --open_handles_;
      maybeFinishStop();
    });
    if (st.error().code != ErrorCode::kNotFound) {
      // e.g. inotify watch limit: the periodic scan still finds and follows everything.
      ctx_.log.logLimited(LogLevel::kWarn, "tail-watch", std::chrono::seconds(300),
                          "input " + ctx_.instance,
                          fmt::format("{}; new data is found by the scan every {} ms instead.",
                                      st.message(), settings_.scan_interval.count()));
      dir_watches_[dir] = nullptr;
    }
    return;
  }
  dir_watches_[dir] = std::move(watch);
}

void TailInput::onDirEvent(const FsEvent& event) {
  if (stopping_) {
    return;
  }
  if (event.failed || !event.name) {
    full_scan_due_ = true;  // events were lost: look at everything
    scheduleScan();
    return;
  }
  if (event.rename) {
    full_scan_due_ = true;  // a name came or went: the next scan globs
  }
  std::string full = event.dir + "/" + *event.name;
  if (event.change) {
    for (const auto& [id, f] : files_) {
      if (!f->released && (f->current_path == full || f->path == full)) {
        wake(f);
      }
    }
  }
  if (event.rename && matchesPatterns(full, settings_.paths, settings_.exclude)) {
    scheduleScan();  // created, renamed or deleted: find out which
  }
}

}  // namespace ingestd::inputs
