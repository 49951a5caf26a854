// Reporting a test case as skipped: for a check that cannot run in this build (a codec not
// compiled in), so that ctest says "Skipped" instead of "Passed" with nothing checked.
#pragma once

#include <string_view>

namespace ingestd::test {

// ctest's SKIP_RETURN_CODE for every doctest test (cmake/IngestdTests.cmake).
inline constexpr int kSkipReturnCode = 77;

// Marks the running test case skipped and says why on stderr; the caller returns. The test
// executable then exits with kSkipReturnCode when it ran under a --test-case filter and
// nothing failed.
void skipTest(std::string_view why);

}  // namespace ingestd::test
