// waitFor() implementation: a steady_clock deadline and short sleeps between checks.
#include "tests/support/wait_for.h"

#include <algorithm>
#include <thread>

namespace ingestd::test {

bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
             std::chrono::milliseconds poll) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  const auto step = std::max(poll, std::chrono::milliseconds(1));
  while (true) {
    if (cond()) {
      return true;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      return false;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    std::this_thread::sleep_for(std::min(step, left + std::chrono::milliseconds(1)));
  }
}

}  // namespace ingestd::test
