#!/usr/bin/env bash
# Fails when a doctest TEST_CASE name holds ';': ctest splits test names there, so such a test
# becomes two ctest entries that each match no test case and fail (it happened three times).
#   tools/lint/test_names.sh [SOURCE_DIR]
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
status=0
while IFS= read -r -d '' f; do
  # A name may be split over several string literals and lines: TEST_CASE("a" "b") or
  # TEST_CASE(\n "a"\n "b").
  if bad=$(grep -Pzo 'TEST_CASE\(\s*"[^"]*"(\s*"[^"]*")*\s*\)' "$f" | tr '\0' '\n' | grep ';'); then
    echo "$f: a TEST_CASE name holds ';' (ctest splits names there):"
    echo "$bad"
    status=1
  fi
done < <(find "$root/tests" -name '*.cpp' -print0)
exit $status
