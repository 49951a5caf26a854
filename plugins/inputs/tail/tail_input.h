// TailInput: follows files matched by globs and hands their lines to the pipeline, never losing
// or skipping a line: rotated files are read to their end, truncation restarts at 0, and the
// checkpoint holds only offsets the outputs acknowledged.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/plugin/checkpoint.h"
#include "agent/plugin/loop.h"
#include "agent/plugin/plugin.h"
#include "plugins/common/multiline.h"
#include "plugins/inputs/tail/line_framing.h"
#include "plugins/inputs/tail/tail_io.h"

namespace ingestd::inputs {

struct TailFile;
struct CriJoin;
struct MultilineChunk;

class TailInput final : public Input {
 public:
  static constexpr std::string_view kName = "tail";

  struct Settings {
    std::string tag;                          // routing tag (default: the input name)
    std::vector<std::string> paths;           // globs, required
    std::vector<std::string> exclude;         // globs on the full path or the basename
    bool read_from_head = false;              // read_from: head|tail, for files first seen
    std::uint64_t max_line_bytes = 1u << 20;  // longer lines are truncated or split
    LongLineMode long_lines = LongLineMode::kTruncate;
    bool detect_copies = true;  // copytruncate copies resume, not re-read
    std::chrono::milliseconds scan_interval{1000};
    std::uint64_t read_chunk_bytes = 1u << 20;             // at most this much per read per file
    std::chrono::milliseconds partial_line_timeout{5000};  // 0: wait for the newline forever
    std::string state_file;                                // "" = <state_dir>/tail-<name>.json
    std::chrono::milliseconds forget_after{std::chrono::hours(1)};  // prune unseen entries
    // Set: lines are joined into multiline records (kFramed chunks), one Multiline per file.
    std::optional<MultilineSettings> multiline;
  };

  // Pure: no I/O. Errors name file, line, column and key.
  static Result<Settings> parse(const ConfigNode& node);
  // Before start (`check` and `run`; blocking stat calls): warns about each glob whose fixed
  // directory does not exist (yet) or is not a directory. Not an error: it may appear later,
  // and the globs are evaluated again at every scan.
  static Status validate(const ConfigNode& node, const Settings& settings,
                         ValidationReport& report);
  static Result<std::unique_ptr<Input>> create(const Settings& settings, PluginContext& ctx);
  // For `ingestd check`: paths, exclusions, where reading starts, parser.
  static std::string describe(const Settings& settings);

  TailInput(Settings settings, PluginContext& ctx);
  ~TailInput() override;

  // Input (all loop thread)
  Status start(RecordSink& sink) override;
  void pause() override;
  void resume() override;
  void stop(std::function<void()> done) override;
  void checkpoint() override;

  const std::string& statePath() const { return state_path_; }
  // Files currently open (not released).
  std::size_t openFilesForTest() const;
  // True once the checkpoint was loaded and the first scan has opened what it found.
  bool readyForTest() const { return first_scan_done_; }
  // Scans done so far that globbed every pattern, and that only stat'ed the directories.
  std::uint64_t fullScansForTest() const { return full_scans_total_; }
  std::uint64_t lightScansForTest() const { return light_scans_total_; }
  // Number of checkpoint writes completed.
  std::uint64_t checkpointWritesForTest() const;

 private:
  using Key = std::pair<std::uint64_t, std::uint64_t>;  // dev, inode

  // ctx_.fileWork(), counted in in_flight_ (stop() finishes only once every done ran).
  void queueWork(std::function<void()> work, std::function<void()> done);

  void onLoaded(LoadedCheckpoint loaded);
  void scheduleScan();
  void startScan();
  void onScanDone(ScanResult result, bool first_scan);
  std::set<std::uint64_t> matchFound(std::vector<FoundFile>& found, std::int64_t now_ms);
  void followUnmatched(const std::set<std::uint64_t>& matched);
  void forgetUnseen(std::int64_t now_ms);
  void onOpened(OpenedFile opened, const std::string& path, bool first_scan);
  bool revive(const OpenedFile& opened, const std::string& path);
  std::optional<std::uint64_t> resumeOffset(const OpenedFile& opened, const std::string& path);
  std::uint64_t newFileStart(const OpenedFile& opened, bool first_scan) const;
  void wake(const std::shared_ptr<TailFile>& f);
  void issueRead(const std::shared_ptr<TailFile>& f);
  void onRead(const std::shared_ptr<TailFile>& f, std::string buf, std::size_t old_size,
              ReadOutcome outcome, bool issued_unmatched);
  void frame(const std::shared_ptr<TailFile>& f, bool flush);
  void frameAssembled(const std::shared_ptr<TailFile>& f, bool flush, bool finish);
  void criLine(CriJoin& j, std::string_view line, std::uint64_t from, bool cut, MultilineChunk& out,
               std::uint64_t& truncated);
  void criFinish(CriJoin& j, MultilineChunk& out, std::uint64_t& truncated);
  void expireMultiline(const std::shared_ptr<TailFile>& f, Clock::Monotonic now);
  Multiline newMultiline() const;
  // Hands records [acks.end(), end) of `f` to the pipeline; `bytes`: their text, for metrics.
  void pushChunk(const std::shared_ptr<TailFile>& f, std::string data, std::uint64_t records,
                 std::uint64_t end, std::size_t bytes);
  void restartAfterTruncation(const std::shared_ptr<TailFile>& f, std::uint64_t size);
  void release(const std::shared_ptr<TailFile>& f);
  void closeFd(const std::shared_ptr<TailFile>& f);
  void closeFd(int fd);
  void retireDrained();
  void armPartialTimer();
  void onPartialTimer();
  void startFullScan(bool first_scan, std::vector<std::string> dirs);
  void followOrphans();
  void followOrphan(const std::shared_ptr<TailFile>& f);
  void watchDir(const std::string& dir);
  void onDirEvent(const FsEvent& event);
  CheckpointData snapshot();
  void maybeFinishStop();
  void countEvent(std::string_view kind, std::uint64_t n = 1);
  void countDropped(std::string_view reason, std::uint64_t n);

  Settings settings_;
  PluginContext& ctx_;
  FramingOptions framing_;
  std::string state_path_;
  RecordSink* sink_ = nullptr;

  bool loaded_ = false;
  bool first_scan_done_ = false;
  bool paused_ = false;
  bool stopping_ = false;
  bool scan_in_flight_ = false;
  bool rescan_pending_ = false;
  // Light scans (see startScan): the pattern directories at the last scan, the orphans of the
  // last full one, light scans since it, and whether an event asked for a full one.
  static constexpr std::size_t kLightScansPerFull = 9;
  std::map<std::string, DirState> last_dirs_;
  std::vector<std::uint64_t> orphans_;  // files not matched by the last full scan
  std::size_t light_scans_ = 0;
  bool full_scan_due_ = false;
  std::uint64_t full_scans_total_ = 0;
  std::uint64_t light_scans_total_ = 0;
  LoadedCheckpoint::State checkpoint_state_ = LoadedCheckpoint::State::kMissing;
  std::int64_t saved_at_ms_ = 0;      // from the loaded checkpoint
  std::int64_t scan_started_ms_ = 0;  // wall time the scan in flight started
  std::int64_t known_until_ms_ = 0;   // every matched file older than this is in files_/saved_
  std::size_t in_flight_ = 0;         // queued work and fs requests that call back into this
  std::size_t open_handles_ = 0;      // directory watches not yet closed
  std::function<void()> stop_done_;

  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::shared_ptr<TailFile>> files_;  // by id: open and draining files
  std::map<Key, std::uint64_t> by_inode_;                     // open files only
  std::map<Key, CheckpointEntry> saved_;                      // entries of files that are not open
  // By directory; null for one that cannot be watched (not tried again: the scan covers it).
  std::map<std::string, std::unique_ptr<FsWatch>> dir_watches_;
  std::set<std::string> open_failed_;  // paths that could not be opened (counted once each)

  // copytruncate: content that was truncated away (or a checkpointed file whose first bytes
  // changed while we were down) and where its complete lines ended. A new file whose first
  // kFingerprintBytes match is a copy of it and is read from there, not from its head.
  struct CopySource {
    Fingerprint fingerprint;         // always kFingerprintBytes long
    std::string head;                // those bytes, when known (empty for checkpoint entries)
    std::uint64_t complete_end = 0;  // offset just past the last complete line handed out
    bool partial = false;            // a partial line was held back at the truncation
    std::string path;
    std::int64_t at_ms = 0;
  };
  std::vector<CopySource> copy_sources_;
  std::map<Key, std::int64_t> deferred_since_;  // possible copies waited for, by inode
  // Where a new file starts when it is a copy of a followed or truncated file; nullopt if not.
  // Sets `defer` when it may be a copy still being written (looked at again by the next scan).
  std::optional<std::uint64_t> copyStart(const OpenedFile& opened, const std::string& path,
                                         bool& defer);
  void rememberCopySource(CopySource source);
  void expireCopySources(std::int64_t now_ms);
  std::unique_ptr<Timer> scan_timer_;
  std::unique_ptr<Timer> partial_timer_;
  std::unique_ptr<CheckpointStore> checkpoints_;
  std::optional<std::vector<CheckpointEntry>> last_written_;
  // Set by anything that can change a checkpoint entry or the lag (reads, acknowledgements,
  // opens, releases, full scans); shared with acknowledgement callbacks.
  std::shared_ptr<bool> changed_ = std::make_shared<bool>(true);
};

}  // namespace ingestd::inputs
