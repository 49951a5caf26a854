// TempDir: a fresh directory under $TMPDIR (or /tmp) for one test, removed recursively when the
// object goes out of scope. Shared by the e2e and integration tests.
#pragma once

#include <string>
#include <string_view>

namespace ingestd::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The absolute path of the directory (no trailing slash).
  const std::string& path() const { return path_; }
  // path() + "/" + name; the file is not created.
  std::string file(std::string_view name) const;

 private:
  std::string path_;
};

}  // namespace ingestd::test
