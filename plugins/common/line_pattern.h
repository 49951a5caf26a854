// LinePattern: one PCRE2 regular expression that answers "does this line match?", JIT-compiled
// when the library supports it. For multiline start/continue patterns (plugins/common/
// multiline.h). Not thread-safe: each instance owns its match data; use one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/core/status.h"

namespace ingestd::inputs {

class LinePattern {
 public:
  // Compiles `pattern` (UTF-8; lines that are not valid UTF-8 still match byte-wise where they
  // can: PCRE2_MATCH_INVALID_UTF). A bad pattern: kInvalidArgument with PCRE2's message and the
  // offset in the pattern, e.g. "missing closing parenthesis at offset 4".
  static Result<LinePattern> compile(std::string_view pattern);

  LinePattern(LinePattern&&) noexcept;
  LinePattern& operator=(LinePattern&&) noexcept;
  ~LinePattern();

  // True when the pattern matches somewhere in `line` (anchor it with ^ to match at the start).
  // A match that hits PCRE2's backtracking limit counts as no match (and in limitHits()), so a
  // hostile line costs bounded time.
  bool matches(std::string_view line) const;

  const std::string& pattern() const;
  bool jit() const;
  std::uint64_t limitHits() const;

 private:
  struct Impl;
  explicit LinePattern(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ingestd::inputs
