#!/usr/bin/env bash
# clang-format over the C++ sources (agent/ plugins/ tools/ tests/ bench/) with the repo's
# .clang-format (Debian 12's clang-format 14; another version may format a few lines differently).
# usage: tools/lint/format.sh [--check|--fix] [SOURCE_DIR]
#   --check (default)  list the files clang-format would change; exit 0 clean, 1 otherwise
#   --fix              reformat those files in place
set -u
mode=--check
if [ "${1:-}" = "--check" ] || [ "${1:-}" = "--fix" ]; then
  mode=$1
  shift
fi
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null 2>&1; then
  echo "format: $clang_format not found (apt-get install clang-format)" >&2
  exit 2
fi
cd "$root" || exit 2
mapfile -t files < <(find agent plugins tools tests bench -type f \
  \( -name '*.cpp' -o -name '*.cc' -o -name '*.h' -o -name '*.hpp' \) -not -path '*/corpus/*' \
  | LC_ALL=C sort)
if [ "$mode" = "--fix" ]; then
  "$clang_format" -i --style=file "${files[@]}"
  exit $?
fi
# One clang-format pass finds the files with violations; only those are diffed for a line count.
mapfile -t unformatted < <("$clang_format" --style=file --dry-run "${files[@]}" 2>&1 \
  | sed -nE 's/^([^:]+):[0-9]+:[0-9]+: (warning|error): code should be clang-formatted.*/\1/p' \
  | uniq)
bad=0
lines=0
for f in "${unformatted[@]}"; do
  n=$("$clang_format" --style=file "$f" | diff "$f" - | grep -c '^<')
  echo "$f: $n line(s) not formatted"
  bad=$((bad + 1))
  lines=$((lines + n))
done
if [ $bad -gt 0 ]; then
  echo "format: $bad of ${#files[@]} files ($lines lines) differ from clang-format;" \
       "run tools/lint/format.sh --fix"
  exit 1
fi
echo "format: ${#files[@]} files clean"
