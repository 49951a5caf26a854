// Blocking file-system helpers of the tail input (run on libuv's thread pool).
#include "plugins/inputs/tail/tail_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

namespace ingestd::inputs {

namespace {

std::string_view baseName(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

ssize_t preadFull(int fd, char* buf, std::size_t len, std::uint64_t offset) {
  std::size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, buf + got, len - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return -errno;
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

}  // namespace

bool isExcluded(const std::string& path, const std::vector<std::string>& exclude) {
  std::string base(baseName(path));
  for (const auto& pattern : exclude) {
    if (::fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME) == 0 ||
        ::fnmatch(pattern.c_str(), base.c_str(), 0) == 0) {
      return true;
    }
  }
  return false;
}

bool matchesPatterns(const std::string& path, const std::vector<std::string>& paths,
                     const std::vector<std::string>& exclude) {
  for (const auto& pattern : paths) {
    if (::fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME) == 0) {
      return !isExcluded(path, exclude);
    }
  }
  return false;
}

std::string fixedDirOf(const std::string& pattern) {
  std::string dir;
  std::size_t start = 1;  // after the leading '/'
  for (;;) {
    const std::size_t slash = pattern.find('/', start);
    if (slash == std::string::npos) {
      break;  // the last component is the file name part
    }
    const std::string_view part(pattern.data() + start, slash - start);
    if (part.find_first_of("*?[{\\") != std::string_view::npos) {
      break;
    }
    if (!part.empty()) {
      dir += '/';
      dir += part;
    }
    start = slash + 1;
  }
  return dir.empty() ? "/" : dir;
}

std::vector<FoundFile> scanPaths(const std::vector<std::string>& paths,
                                 const std::vector<std::string>& exclude) {
  std::vector<FoundFile> out;
  std::set<std::pair<std::uint64_t, std::uint64_t>> seen;
  for (const auto& pattern : paths) {
    glob_t g{};
    int rc = ::glob(pattern.c_str(), GLOB_NOSORT | GLOB_BRACE, nullptr, &g);
    if (rc == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) {
        std::string path = g.gl_pathv[i];
        if (isExcluded(path, exclude)) {
          continue;
        }
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
          continue;
        }
        auto key = std::make_pair(static_cast<std::uint64_t>(st.st_dev),
                                  static_cast<std::uint64_t>(st.st_ino));
        if (!seen.insert(key).second) {
          continue;
        }
        out.push_back(FoundFile{std::move(path), key.first, key.second,
                                static_cast<std::uint64_t>(st.st_size)});
      }
    }
    ::globfree(&g);
  }
  return out;
}

OpenedFile openForTail(const std::string& path, bool want_tail_boundary) {
  OpenedFile out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    out.err = errno;
    return out;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    out.err = errno != 0 ? errno : EINVAL;
    ::close(fd);
    return out;
  }
  out.dev = static_cast<std::uint64_t>(st.st_dev);
  out.ino = static_cast<std::uint64_t>(st.st_ino);
  out.size = static_cast<std::uint64_t>(st.st_size);
  out.mtime_ms = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 +
                 static_cast<std::int64_t>(st.st_mtim.tv_nsec / 1000000);
  out.head.resize(std::min<std::uint64_t>(out.size, kFingerprintBytes));
  ssize_t n = preadFull(fd, out.head.data(), out.head.size(), 0);
  out.head.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  out.tail_boundary = out.size;
  if (want_tail_boundary && out.size > 0) {
    constexpr std::uint64_t kWindow = std::uint64_t{64} * 1024;
    std::uint64_t from = out.size > kWindow ? out.size - kWindow : 0;
    std::string window(out.size - from, '\0');
    ssize_t got = preadFull(fd, window.data(), window.size(), from);
    if (got > 0) {
      const void* nl = ::memrchr(window.data(), '\n', static_cast<std::size_t>(got));
      if (nl != nullptr) {
        out.tail_boundary =
            from + static_cast<std::uint64_t>(static_cast<const char*>(nl) - window.data()) + 1;
      } else if (from == 0) {
        out.tail_boundary = 0;  // one incomplete line: it is being written, read it whole
      }
    }
  }
  out.fd = fd;
  return out;
}

ReadOutcome readAt(int fd, std::uint64_t offset, char* buf, std::size_t len,
                   const Fingerprint& fingerprint) {
  ReadOutcome out;
  ssize_t n;
  do {
    n = ::pread(fd, buf, len, static_cast<off_t>(offset));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    out.n = -errno;
    return out;
  }
  out.n = n;
  if (n > 0) {
    return out;
  }
  out.probed = true;
  struct stat st {};
  if (::fstat(fd, &st) == 0) {
    out.size = static_cast<std::uint64_t>(st.st_size);
    out.nlink = static_cast<std::uint64_t>(st.st_nlink);
  }
  if (fingerprint.len > 0) {
    char head[kFingerprintBytes];
    ssize_t got = preadFull(fd, head, fingerprint.len, 0);
    out.fingerprint_ok =
        got >= 0 &&
        fingerprintMatches(fingerprint, std::string_view(head, static_cast<std::size_t>(got)));
  }
  return out;
}

std::optional<std::string> findInodeInDir(const std::string& dir, std::uint64_t dev,
                                          std::uint64_t ino) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return std::nullopt;
  }
  std::optional<std::string> out;
  while (dirent* e = ::readdir(d)) {
    if (static_cast<std::uint64_t>(e->d_ino) != ino) {
      continue;  // d_ino is the inode number: a cheap filter before stat
    }
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        static_cast<std::uint64_t>(st.st_dev) == dev &&
        static_cast<std::uint64_t>(st.st_ino) == ino) {
      out = (dir == "/" ? std::string() : dir) + "/" + e->d_name;
      break;
    }
  }
  ::closedir(d);
  return out;
}

namespace {

// statfs f_type values of local file systems whose inotify events cover every change.
bool eventsComplete(long type) {
  switch (static_cast<unsigned long>(type)) {
    case 0xEF53:      // ext2/3/4
    case 0x58465342:  // xfs
    case 0x9123683E:  // btrfs
    case 0x01021994:  // tmpfs
    case 0xF2F52010:  // f2fs
    case 0x794C7630:  // overlay (changes made through the mount)
      return true;
    default: return false;
  }
}

}  // namespace

std::map<std::string, DirState> statDirs(const std::vector<std::string>& dirs) {
  std::map<std::string, DirState> out;
  for (const auto& dir : dirs) {
    DirState st;
    struct stat sb {};
    struct statfs fs {};
    if (::stat(dir.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode)) {
      st.mtime_ns = static_cast<std::int64_t>(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec;
      st.events_complete = ::statfs(dir.c_str(), &fs) == 0 && eventsComplete(fs.f_type);
    }
    out[dir] = st;
  }
  return out;
}

ScanResult scanAndOpen(const std::vector<std::string>& paths,
                       const std::vector<std::string>& exclude,
                       const std::set<std::pair<std::uint64_t, std::uint64_t>>& known,
                       bool want_tail_boundary) {
  ScanResult out;
  out.found = scanPaths(paths, exclude);
  std::set<std::pair<std::uint64_t, std::uint64_t>> opened;
  auto open =
      [&](const std::string& path) -> std::optional<std::pair<std::uint64_t, std::uint64_t>> {
    OpenedFile f = openForTail(path, want_tail_boundary);
    if (f.fd < 0) {
      if (f.err != ENOENT) {
        out.opened.push_back(ScanResult::Opened{path, std::move(f)});  // reported, not followed
      }
      return std::nullopt;
    }
    std::pair<std::uint64_t, std::uint64_t> key{f.dev, f.ino};
    if (known.count(key) != 0 || !opened.insert(key).second) {
      ::close(f.fd);
      return key;
    }
    out.opened.push_back(ScanResult::Opened{path, std::move(f)});
    return key;
  };
  for (const auto& ff : out.found) {
    std::pair<std::uint64_t, std::uint64_t> want{ff.dev, ff.ino};
    if (known.count(want) != 0 || opened.count(want) != 0) {
      continue;
    }
    auto got = open(ff.path);
    if (got && *got == want) {
      continue;
    }
    // The path changed hands between stat and open (fast rotation): the file we saw was renamed
    // or deleted. Renamed within its directory, it is still ours to read.
    auto slash = ff.path.rfind('/');
    std::string dir = slash == 0 ? "/" : ff.path.substr(0, slash);
    if (auto moved = findInodeInDir(dir, ff.dev, ff.ino)) {
      auto again = open(*moved);
      (void)again;
    }
  }
  return out;
}

}  // namespace ingestd::inputs
