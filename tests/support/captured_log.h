// CapturedLog: a Logger that writes to a temp file the test reads back, to check what was
// logged. Header-only.
#pragma once

#include <cstdio>
#include <string>

#include "agent/core/log.h"

namespace ingestd::test {

// A temp file closed last: CapturedLog's logger, whose writer thread writes to it until the
// logger is destroyed, is declared after it and so destroyed before it.
struct CapturedLogFile {
  std::FILE* file = std::tmpfile();
  CapturedLogFile() = default;
  CapturedLogFile(const CapturedLogFile&) = delete;
  CapturedLogFile& operator=(const CapturedLogFile&) = delete;
  ~CapturedLogFile() { std::fclose(file); }
};

struct CapturedLog {
  CapturedLogFile tmp;
  Logger log;

  explicit CapturedLog(LogLevel level = LogLevel::kDebug)
      : log(level, Logger::Format::kText, tmp.file) {}

  // Everything logged so far: the writer thread is waited for first.
  std::string text() {
    log.flush();
    std::fflush(tmp.file);
    std::string out;
    std::rewind(tmp.file);
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, tmp.file)) > 0) {
      out.append(buf, n);
    }
    std::fseek(tmp.file, 0, SEEK_END);
    return out;
  }
};

}  // namespace ingestd::test
