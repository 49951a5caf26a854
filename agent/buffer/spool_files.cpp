// Blocking file helpers of the spool directory (see spool_files.h).
#include "agent/buffer/spool_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "agent/core/assert.h"

namespace ingestd::spool_files {

std::string errnoText(int err) { return std::strerror(err); }

std::int64_t nowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string segmentName(std::uint64_t id) { return fmt::format("seg-{:016x}.spool", id); }

std::optional<std::uint64_t> parseSegmentName(std::string_view name, bool& tmp) {
  tmp = name.ends_with(kTmpSuffix);
  if (tmp) {
    name.remove_suffix(kTmpSuffix.size());
  }
  constexpr std::string_view kPrefix = "seg-";
  constexpr std::string_view kSuffix = ".spool";
  if (name.size() != kPrefix.size() + 16 + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  std::uint64_t id = 0;
  for (char c : name.substr(kPrefix.size(), 16)) {
    std::uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    id = (id << 4) | digit;
  }
  if (id >= (std::uint64_t{1} << 63)) {
    return std::nullopt;
  }
  return id;
}

std::string baseName(const std::string& file) { return file.substr(file.rfind('/') + 1); }

std::optional<std::string> writeAll(const WriteFn& write_fn, int fd, std::string_view bytes) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = write_fn ? write_fn(fd, p, left) : ::write(fd, p, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return errnoText(errno);
    }
    if (n == 0) {
      return std::string("a write made no progress");
    }
    INGESTD_CHECK(static_cast<std::size_t>(n) <= left);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

std::optional<std::string> writeNewFile(const WriteFn& write_fn, const std::string& file,
                                        std::string_view bytes) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return fmt::format("cannot create \"{}\": {}", file, errnoText(errno));
  }
  std::optional<std::string> err = writeAll(write_fn, fd, bytes);
  if (!err && ::fsync(fd) != 0) {
    err = errnoText(errno);
  }
  ::close(fd);
  if (err) {
    ::unlink(file.c_str());
    return fmt::format("cannot write \"{}\": {}", file, *err);
  }
  return std::nullopt;
}

std::optional<std::string> syncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return fmt::format("cannot open directory \"{}\" to fsync it: {}", dir, errnoText(errno));
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return fmt::format("cannot fsync directory \"{}\": {}", dir, errnoText(err));
  }
  return std::nullopt;
}

std::optional<std::string> readWholeFile(const std::string& file, std::string& out) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errnoText(errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return errnoText(err);
  }
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return errnoText(err);
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  ::close(fd);
  return std::nullopt;
}

std::uint64_t sizeOfPath(const std::string& path) {
  const std::string& p = path;
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    return 0;
  }
  if (!S_ISDIR(st.st_mode)) {
    return static_cast<std::uint64_t>(st.st_size);
  }
  std::uint64_t total = 0;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(p, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      std::uintmax_t n = it->file_size(size_ec);
      total += size_ec ? 0 : static_cast<std::uint64_t>(n);
    }
  }
  return total;
}

ErrorCode directoryErrorCode(int err) {
  return err == EACCES || err == EPERM || err == EROFS ? ErrorCode::kPermissionDenied
                                                       : ErrorCode::kIo;
}

}  // namespace ingestd::spool_files
