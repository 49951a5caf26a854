// Fingerprints of the first bytes of a file (FNV-1a 64: fast, and only compared for equality).
#include "plugins/inputs/tail/file_identity.h"

#include <algorithm>

namespace ingestd::inputs {

namespace {
std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}
}  // namespace

Fingerprint fingerprintOf(std::string_view head) {
  auto len = static_cast<std::uint32_t>(std::min<std::size_t>(head.size(), kFingerprintBytes));
  return Fingerprint{len, fnv1a(head.substr(0, len))};
}

bool fingerprintMatches(const Fingerprint& saved, std::string_view head) {
  if (saved.len == 0) {
    return true;  // nothing was known about the content: dev + inode decide
  }
  if (head.size() < saved.len) {
    return false;
  }
  return fnv1a(head.substr(0, saved.len)) == saved.hash;
}

}  // namespace ingestd::inputs
