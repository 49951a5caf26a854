// waitFor(): the one allowed way for a test to wait. Polls a condition with short sleeps until it
// holds or a deadline passes; never sleep blindly in a test.
#pragma once

#include <chrono>
#include <functional>

namespace ingestd::test {

// Returns true as soon as cond() returns true (checked immediately, then every `poll`), or false
// once `timeout` has elapsed. cond() is evaluated one last time at the deadline.
bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
             std::chrono::milliseconds poll = std::chrono::milliseconds(20));

}  // namespace ingestd::test
