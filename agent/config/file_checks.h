// Checks of files named in the configuration, for plugins' validate() (agent/plugin/plugin.h):
// the file exists, is readable, holds what it should. Blocking (stat, access, one small read):
// for `ingestd check` and start-up, never the loop. Errors name the key's file:line:col and the
// path, never the file's content.
#pragma once

#include <string>

#include "agent/config/config_node.h"
#include "agent/core/status.h"

namespace ingestd {

// A file the service reads later, such as a `*_file` secret: exists, is not a directory and is
// readable (access(R_OK) as the user running this; root can read anything, so as root the
// answer says so). The content is not read. Returns what was found, e.g. "exists, readable".
Result<std::string> checkReadableFile(const ConfigNode& node, const std::string& path);

// A CA bundle for TLS: a readable regular file of at most kMaxCaFileBytes that holds at least
// one PEM certificate ("-----BEGIN CERTIFICATE-----"). Returns e.g. "exists, 3 PEM certificates".
inline constexpr std::size_t kMaxCaFileBytes = 16u << 20;
Result<std::string> checkCaFile(const ConfigNode& node, const std::string& path);

}  // namespace ingestd
