#!/usr/bin/env bash
# Forbidden-call check (STYLE.md): the daemon's code (agent/, plugins/) never blocks the loop
# with sleeps or blocking HTTP, and formats with fmt (g++ 12 has no std::format).
# usage: tools/lint/forbidden_calls.sh [SOURCE_DIR]   exit 0 clean, 1 with findings.
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
patterns=(
  'curl_easy_perform'                 # HTTP goes through curl multi on the loop
  '\bsleep\s*\(' '\busleep\s*\(' '\bnanosleep\s*\(' 'sleep_for\s*\(' 'sleep_until\s*\('
  'std::format\b'                     # use fmt::format
  '\bsystem\s*\(' '\bpopen\s*\('      # no shelling out
  '\bgetaddrinfo\s*\('                # DNS is curl's (asynchronous resolver)
)
status=0
for p in "${patterns[@]}"; do
  hits=$(grep -rnE --include='*.cpp' --include='*.h' "$p" "$root/agent" "$root/plugins" \
         | grep -vE '^[^:]+:[0-9]+:\s*//' || true)
  if [ -n "$hits" ]; then
    echo "forbidden call /$p/:"
    echo "$hits"
    status=1
  fi
done
[ $status -eq 0 ] && echo "forbidden-call check: clean"
exit $status
