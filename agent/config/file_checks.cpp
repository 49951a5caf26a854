// File checks for plugins' validate() (see file_checks.h).
#include "agent/plugin/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace ingestd {

namespace {

// stat() and access(R_OK): "" when `path` is a readable regular file, else why not.
std::string notReadable(const std::string& path, struct stat& st) {
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) {
      return fmt::format("file \"{}\" does not exist", path);
    }
    return fmt::format("cannot stat \"{}\": {}", path, std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) {
    return fmt::format("\"{}\" is a directory, not a regular file", path);
  }
  if (!S_ISREG(st.st_mode)) {
    return fmt::format("\"{}\" is not a regular file", path);
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return fmt::format("file \"{}\" is not readable by this user (uid {}): {}", path, ::getuid(),
                       std::strerror(errno));
  }
  return {};
}

std::string readableBy() { return ::getuid() == 0 ? "readable by root" : "readable"; }

}  // namespace

Result<std::string> checkReadableFile(const ConfigNode& node, const std::string& path) {
  struct stat st {};
  if (std::string why = notReadable(path, st); !why.empty()) {
    return node.error(why);
  }
  return fmt::format("exists, {}", readableBy());
}

Result<std::string> checkCaFile(const ConfigNode& node, const std::string& path) {
  struct stat st {};
  if (std::string why = notReadable(path, st); !why.empty()) {
    return node.error(why);
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxCaFileBytes) {
    return node.error(fmt::format("CA file \"{}\" is larger than {} MiB; it is not a CA bundle",
                                  path, kMaxCaFileBytes >> 20));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return node.error(fmt::format("cannot open \"{}\": {}", path, std::strerror(errno)));
  }
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return node.error(fmt::format("cannot read \"{}\": {}", path, std::strerror(err)));
    }
    if (n == 0 || text.size() + static_cast<std::size_t>(n) > kMaxCaFileBytes) {
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  std::size_t count = 0;
  for (auto at = text.find(kBegin); at != std::string::npos; at = text.find(kBegin, at + 1)) {
    ++count;
  }
  if (count == 0) {
    return node.error(fmt::format(
        "CA file \"{}\" holds no PEM certificate (no \"{}\" line); convert a DER file with "
        "'openssl x509 -inform der -in FILE -out FILE.pem'",
        path, kBegin));
  }
  return fmt::format("exists, {}, {} PEM certificate{}", readableBy(), count,
                     count == 1 ? "" : "s");
}

}  // namespace ingestd
