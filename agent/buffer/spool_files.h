// Small blocking file helpers shared by the spool directory's writer (spool_dir.cpp) and its
// start-up recovery (spool_recovery.cpp): segment file names, directory fsync, whole-file reads.
// Internal to agent/buffer; errors come back as text for the caller's sentence.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/status.h"

namespace ingestd::spool_files {

inline constexpr std::string_view kCorruptDirName = "corrupt";
inline constexpr std::string_view kTmpSuffix = ".tmp";

using WriteFn = std::function<ssize_t(int fd, const void* buf, std::size_t n)>;

std::string errnoText(int err);
std::int64_t nowUnixMs();  // wall time; only stored in segment headers, for people

// "seg-<16 lowercase hex digits>.spool".
std::string segmentName(std::uint64_t id);
// The id of such a name, optionally followed by ".tmp" (then `tmp` is set). Ids of 2^63 and
// above are not ours: the next id must stay representable and larger than every existing one.
std::optional<std::uint64_t> parseSegmentName(std::string_view name, bool& tmp);
std::string baseName(const std::string& file);

// Writes all of `bytes` with `write_fn` (empty: ::write), continuing after short writes and
// EINTR. Error text, or nothing.
std::optional<std::string> writeAll(const WriteFn& write_fn, int fd, std::string_view bytes);
// Creates or truncates `file`, writes `bytes` with `write_fn`, fsyncs and closes it; removes it
// again on failure. Error text naming the file, or nothing.
std::optional<std::string> writeNewFile(const WriteFn& write_fn, const std::string& file,
                                        std::string_view bytes);
// fsync of a directory, so that entries created, renamed or removed in it are on disk.
std::optional<std::string> syncDir(const std::string& dir);
std::optional<std::string> readWholeFile(const std::string& file, std::string& out);
// Size of a file, or of every regular file under a directory (links not followed); 0 when gone.
std::uint64_t sizeOfPath(const std::string& path);
// kPermissionDenied for EACCES, EPERM and EROFS, kIo otherwise.
ErrorCode directoryErrorCode(int err);

}  // namespace ingestd::spool_files
