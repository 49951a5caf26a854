// Failure path of INGESTD_CHECK, and the loop-thread identity used by INGESTD_ASSERT_ON_LOOP.
#include "agent/core/assert.h"

#include <cstdio>
#include <cstdlib>

namespace ingestd::detail {

thread_local bool t_on_loop_thread = false;  // set by Loop::run()

void markLoopThread() { t_on_loop_thread = true; }
bool onLoopThread() { return t_on_loop_thread; }

[[noreturn]] void checkFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "ingestd: internal check failed: %s at %s:%d\n", expr, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace ingestd::detail
