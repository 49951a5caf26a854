// Blocking file-system helpers of the tail input. They run inside fileWork() on libuv's
// thread pool, never on the loop thread; they touch no loop object (inputs in, results out).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "plugins/inputs/tail/file_identity.h"

namespace ingestd::inputs {

// Pure: true when `path` or its basename matches one of the `exclude` globs (fnmatch).
bool isExcluded(const std::string& path, const std::vector<std::string>& exclude);
// Pure: true when `path` matches one of the `paths` globs and is not excluded.
bool matchesPatterns(const std::string& path, const std::vector<std::string>& paths,
                     const std::vector<std::string>& exclude);

// Pure: the directory of a path glob up to its first component with a glob character (the part
// that must exist for anything to match): "/var/log/nginx/access.log*" -> "/var/log/nginx",
// "/var/log/*/app.log" -> "/var/log", "/app.log" -> "/". `pattern` is absolute.
std::string fixedDirOf(const std::string& pattern);

struct FoundFile {
  std::string path;
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
};

// Blocking: glob(3) every pattern, drop excluded paths and anything but regular files, stat each
// (only stat: no open, no read). Each inode is reported once (first path wins).
std::vector<FoundFile> scanPaths(const std::vector<std::string>& paths,
                                 const std::vector<std::string>& exclude);

struct OpenedFile {
  int fd = -1;
  int err = 0;  // errno when fd < 0
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ms = 0;
  std::string head;                 // first min(kFingerprintBytes, size) bytes
  std::uint64_t tail_boundary = 0;  // offset just after the last '\n' in the last 64 KiB (or size)
};

// Blocking: open read-only, fstat, read the first bytes for the fingerprint and, when asked, find
// where the last complete line ends (so read_from: tail never starts in the middle of a line).
OpenedFile openForTail(const std::string& path, bool want_tail_boundary);

struct ReadOutcome {
  std::int64_t n = 0;  // bytes read; 0 at end of file; -errno on failure
  // At end of file only (n == 0): what fstat and the fingerprint say.
  bool probed = false;
  std::uint64_t size = 0;
  std::uint64_t nlink = 1;
  bool fingerprint_ok = true;  // the first bytes still match: not truncated and rewritten
};

// Blocking: pread up to `len` bytes at `offset` into `buf`. At end of file also fstat and check
// the fingerprint, so one trip to the thread pool tells the loop everything it needs.
ReadOutcome readAt(int fd, std::uint64_t offset, char* buf, std::size_t len,
                   const Fingerprint& fingerprint);

// Blocking: the path, in `dir`, of the regular file with this device and inode (readdir + stat).
// Finds a file renamed in its directory between our stat and our open.
std::optional<std::string> findInodeInDir(const std::string& dir, std::uint64_t dev,
                                          std::uint64_t ino);

// What a scan saw of the directory of a pattern: its modification time, and whether its file
// system reports every change through inotify (local ones: ext2/3/4, xfs, btrfs, tmpfs, f2fs,
// overlay; not NFS, CIFS or FUSE, where other hosts write without events).
struct DirState {
  std::int64_t mtime_ns = -1;  // -1: could not stat it
  bool events_complete = false;
  bool operator==(const DirState&) const = default;
};

// Blocking: stat and statfs of each directory.
std::map<std::string, DirState> statDirs(const std::vector<std::string>& dirs);

struct ScanResult {
  // A light scan: every directory was unchanged and watched, so nothing was globbed; `found`
  // and `opened` are empty and the files matched last time still are.
  bool light = false;
  std::map<std::string, DirState> dirs;  // statDirs() of the pattern directories, before the glob
  std::vector<FoundFile> found;          // everything matched
  struct Opened {
    std::string path;
    OpenedFile file;
  };
  std::vector<Opened> opened;  // files not in `known`, opened right away
};

// Blocking: scanPaths(), then opens every found file whose (dev, inode) is not in `known` in the
// same pass, so that a file rotated away right after it appeared is still caught: if the path
// already holds a newer file when we open it, the one we saw is looked for in its directory.
ScanResult scanAndOpen(const std::vector<std::string>& paths,
                       const std::vector<std::string>& exclude,
                       const std::set<std::pair<std::uint64_t, std::uint64_t>>& known,
                       bool want_tail_boundary);

}  // namespace ingestd::inputs
