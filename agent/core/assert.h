// Assertions for things that can only be our bug. INGESTD_CHECK always runs; INGESTD_ASSERT
// only in debug builds. Never use these for anything the environment can cause.
#pragma once

namespace ingestd::detail {
[[noreturn]] void checkFailed(const char* expr, const char* file, int line);
bool onLoopThread();
}  // namespace ingestd::detail

#define INGESTD_CHECK(cond)                                      \
  do {                                                           \
    if (!(cond)) [[unlikely]] {                                  \
      ::ingestd::detail::checkFailed(#cond, __FILE__, __LINE__); \
    }                                                            \
  } while (0)

#ifdef NDEBUG
#define INGESTD_ASSERT(cond) ((void)0)
#define INGESTD_ASSERT_ON_LOOP() ((void)0)
#else
#define INGESTD_ASSERT(cond) INGESTD_CHECK(cond)
#define INGESTD_ASSERT_ON_LOOP() INGESTD_CHECK(::ingestd::detail::onLoopThread())
#endif
