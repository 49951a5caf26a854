// Unit tests of tail file identity: fingerprints of the first bytes and how they match.
#include <doctest/doctest.h>

#include <string>

#include "plugins/inputs/tail/file_identity.h"
#include "plugins/inputs/tail/tail_io.h"

namespace ingestd::inputs {

TEST_CASE("identity: fingerprint covers at most kFingerprintBytes") {
  std::string big(1000, 'a');
  auto fp = fingerprintOf(big);
  CHECK(fp.len == kFingerprintBytes);
  CHECK(fp == fingerprintOf(big.substr(0, kFingerprintBytes)));
  auto small = fingerprintOf("hello\n");
  CHECK(small.len == 6);
}

TEST_CASE("identity: a file that grew still matches its shorter fingerprint") {
  auto fp = fingerprintOf("line1\n");
  CHECK(fingerprintMatches(fp, "line1\nline2\n"));
  CHECK(fingerprintMatches(fp, "line1\n"));
}

TEST_CASE("identity: different first bytes or a shorter file do not match") {
  auto fp = fingerprintOf("line1\nline2\n");
  CHECK_FALSE(fingerprintMatches(fp, "LINE1\nline2\n"));
  CHECK_FALSE(fingerprintMatches(fp, "line1\n"));  // truncated
  CHECK_FALSE(fingerprintMatches(fp, ""));
}

TEST_CASE("identity: empty fingerprint matches anything (dev+inode decide)") {
  Fingerprint empty = fingerprintOf("");
  CHECK(empty.len == 0);
  CHECK(fingerprintMatches(empty, ""));
  CHECK(fingerprintMatches(empty, "anything"));
  CHECK(fingerprintMatches(Fingerprint{}, "x"));
}

TEST_CASE("identity: same inode with a different fingerprint is a different file") {
  FileIdentity a{1, 2, fingerprintOf("old content\n")};
  FileIdentity b{1, 2, fingerprintOf("new content\n")};
  CHECK(a.sameInode(b));
  CHECK_FALSE(a == b);
}

TEST_CASE("tail io: exclude matches full path or basename") {
  std::vector<std::string> ex{"*.gz", "/var/log/secret/*"};
  CHECK(isExcluded("/var/log/app.log.1.gz", ex));
  CHECK(isExcluded("/var/log/secret/x.log", ex));
  CHECK_FALSE(isExcluded("/var/log/app.log", ex));
  std::vector<std::string> paths{"/var/log/app*.log*"};
  CHECK(matchesPatterns("/var/log/app.log", paths, ex));
  CHECK(matchesPatterns("/var/log/app.log.1", paths, ex));
  CHECK_FALSE(matchesPatterns("/var/log/app.log.2.gz", paths, ex));
  CHECK_FALSE(matchesPatterns("/var/log/other.log", paths, ex));
}

}  // namespace ingestd::inputs
