// Fast multijson record counting for --discard mode (see record_count.h). The state machine is
// the engine's; only the six bytes that drive it (" \ { } [ ]) are visited, found with SSE2.
#include "record_count.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "engine.h"
#include "url.h"

namespace kusto_local {
namespace {

struct CountState {
  std::uint64_t count = 0;
  int depth = 0;
  bool in_string = false;
  bool top_array = false;
  std::size_t next = 0;  // bytes before this index were consumed by a backslash escape
};

inline void step(CountState& s, char c, std::size_t pos) {
  if (s.in_string) {
    if (c == '\\') {
      s.next = pos + 2;  // the escaped byte never ends the string
    } else if (c == '"') {
      s.in_string = false;
    }
    return;
  }
  if (c == '"') {
    s.in_string = true;
  } else if (c == '{' || c == '[') {
    if (s.depth == 0) {
      s.top_array = c == '[';
    }
    if (c == '{' && (s.depth == 0 || (s.depth == 1 && s.top_array))) {
      ++s.count;
    }
    ++s.depth;
  } else if ((c == '}' || c == ']') && s.depth > 0) {
    --s.depth;
  }
}

inline bool interesting(char c) {
  return c == '"' || c == '\\' || c == '{' || c == '}' || c == '[' || c == ']';
}

}  // namespace

std::uint64_t countMultiJsonRecords(std::string_view data) {
  CountState s;
  const char* p = data.data();
  const std::size_t n = data.size();
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i open_brace = _mm_set1_epi8('{');
  const __m128i close_brace = _mm_set1_epi8('}');
  const __m128i open_bracket = _mm_set1_epi8('[');
  const __m128i close_bracket = _mm_set1_epi8(']');
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    __m128i hits = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, open_brace), _mm_cmpeq_epi8(v, close_brace)),
                     _mm_or_si128(_mm_cmpeq_epi8(v, open_bracket),
                                  _mm_cmpeq_epi8(v, close_bracket))));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(hits));
    while (mask != 0) {
      std::size_t pos = i + static_cast<std::size_t>(__builtin_ctz(mask));
      mask &= mask - 1;
      if (pos >= s.next) {
        step(s, p[pos], pos);
      }
    }
  }
#endif
  for (; i < n; ++i) {
    if (i >= s.next && interesting(p[i])) {
      step(s, p[i], i);
    }
  }
  return s.count;
}

std::uint64_t countRecordsForDiscard(std::string_view format, std::string_view data) {
  if (equalsNoCase(format, "multijson")) {
    return countMultiJsonRecords(data);
  }
  return Engine::countRecords(format, data);
}

}  // namespace kusto_local
