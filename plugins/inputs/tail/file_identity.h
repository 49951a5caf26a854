// File identity for the tail input: device + inode + a fingerprint of the first bytes, so that a
// recycled inode holding different data is not mistaken for the file we were reading. Pure.
#pragma once

#include <cstdint>
#include <string_view>

namespace ingestd::inputs {

// How many leading bytes the fingerprint covers (fewer when the file is shorter; the length is
// stored with the hash and grows as the file grows).
inline constexpr std::uint32_t kFingerprintBytes = 256;

struct Fingerprint {
  std::uint32_t len = 0;   // bytes hashed
  std::uint64_t hash = 0;  // FNV-1a 64 of those bytes

  bool operator==(const Fingerprint&) const = default;
};

// Fingerprint of the first min(kFingerprintBytes, head.size()) bytes of `head`.
Fingerprint fingerprintOf(std::string_view head);

// True when `head` (the current first bytes of a file, up to kFingerprintBytes) starts with the
// bytes `saved` was computed from. A file now shorter than saved.len does not match (truncated or
// a different file). An empty saved fingerprint matches any file.
bool fingerprintMatches(const Fingerprint& saved, std::string_view head);

struct FileIdentity {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  Fingerprint fingerprint;

  bool sameInode(const FileIdentity& o) const { return dev == o.dev && ino == o.ino; }
  // Same inode and the fingerprints agree on their common prefix.
  bool operator==(const FileIdentity&) const = default;
};

}  // namespace ingestd::inputs
