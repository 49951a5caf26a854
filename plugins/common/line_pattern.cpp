// LinePattern: PCRE2 compile (JIT when available) and match.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "plugins/common/line_pattern.h"

#include <pcre2.h>

#include "agent/core/assert.h"

#include <cstdint>

namespace ingestd::inputs {

namespace {

// Backtracking budget per match: generous for line-sized subjects, small enough that a
// pathological pattern on a hostile line cannot stall the loop.
constexpr std::uint32_t kMatchLimit = 100000;
constexpr std::uint32_t kDepthLimit = 10000;

std::string pcre2Message(int code) {
  PCRE2_UCHAR buf[256];
  const int n = pcre2_get_error_message(code, buf, sizeof(buf));
  if (n < 0) {
    return fmt::format("PCRE2 error {}", code);
  }
  return {reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n)};
}

}  // namespace

struct LinePattern::Impl {
  std::string pattern;
  pcre2_code* code = nullptr;
  pcre2_match_data* match = nullptr;
  pcre2_match_context* context = nullptr;
  bool jit = false;
  mutable std::uint64_t limit_hits = 0;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    pcre2_match_context_free(context);
    pcre2_match_data_free(match);
    pcre2_code_free(code);
  }
};

Result<LinePattern> LinePattern::compile(std::string_view pattern) {
  auto impl = std::make_unique<Impl>();
  impl->pattern = std::string(pattern);
  int err = 0;
  PCRE2_SIZE offset = 0;
  impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                             PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &offset, nullptr);
  if (impl->code == nullptr) {
    return makeError(ErrorCode::kInvalidArgument, "{} at offset {}", pcre2Message(err), offset);
  }
  impl->jit = pcre2_jit_compile(impl->code, PCRE2_JIT_COMPLETE) == 0;
  impl->match = pcre2_match_data_create(1, nullptr);
  impl->context = pcre2_match_context_create(nullptr);
  INGESTD_CHECK(impl->match != nullptr && impl->context != nullptr);
  pcre2_set_match_limit(impl->context, kMatchLimit);
  pcre2_set_depth_limit(impl->context, kDepthLimit);
  return LinePattern(std::move(impl));
}

LinePattern::LinePattern(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LinePattern::LinePattern(LinePattern&&) noexcept = default;
LinePattern& LinePattern::operator=(LinePattern&&) noexcept = default;
LinePattern::~LinePattern() = default;

bool LinePattern::matches(std::string_view line) const {
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(line.data());
  const int rc =
      impl_->jit
          ? pcre2_jit_match(impl_->code, subject, line.size(), 0, 0, impl_->match, impl_->context)
          : pcre2_match(impl_->code, subject, line.size(), 0, 0, impl_->match, impl_->context);
  if (rc >= 0) {
    return true;
  }
  if (rc != PCRE2_ERROR_NOMATCH) {
    ++impl_->limit_hits;  // match or depth limit (or JIT stack): bounded time, no match
  }
  return false;
}

const std::string& LinePattern::pattern() const { return impl_->pattern; }
bool LinePattern::jit() const { return impl_->jit; }
std::uint64_t LinePattern::limitHits() const { return impl_->limit_hits; }

}  // namespace ingestd::inputs
