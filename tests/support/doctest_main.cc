// The one doctest main() shared by every test executable. ctest runs each TEST_CASE as
// `--test-case=<name>`; a run whose filter selects no test case fails instead of passing with
// nothing checked (a name holding ';' reaches doctest cut in two by CMake's list syntax).
// A test case that calls ingestd::test::skipTest() exits with kSkipReturnCode, which ctest
// reports as skipped (SKIP_RETURN_CODE), not as passed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string_view>

#include "tests/support/skip.h"

namespace {

bool g_skipped = false;  // skipTest() was called

int g_selected = -1;  // test cases that passed the filters in the last run

struct SelectedCounter : doctest::IReporter {
  explicit SelectedCounter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    g_selected = static_cast<int>(stats.numTestCasesPassingFilters);
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

DOCTEST_REGISTER_LISTENER("selected_counter", 1, SelectedCounter);

}  // namespace

namespace ingestd::test {

void skipTest(std::string_view why) {
  g_skipped = true;
  std::fprintf(stderr, "SKIPPED: %.*s\n", static_cast<int>(why.size()), why.data());
}

}  // namespace ingestd::test

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int rc = context.run();
  if (context.shouldExit()) {
    return rc;
  }
  bool filtered = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    filtered = filtered || arg.starts_with("--test-case=") || arg.starts_with("-tc=");
  }
  if (rc == 0 && filtered && g_selected == 0) {
    std::fprintf(stderr,
                 "No test case matches the --test-case filter, so nothing was tested. A test "
                 "name must not contain ';' (ctest splits it there).\n");
    return 1;
  }
  if (rc == 0 && filtered && g_skipped) {
    return ingestd::test::kSkipReturnCode;
  }
  return rc;
}
