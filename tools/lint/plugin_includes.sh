#!/usr/bin/env bash
# Plugin API check (STYLE.md "Where things go"): code under plugins/ includes agent headers only
# from agent/plugin/ (the plugin API) and agent/core/ (Status, logging, Clock, asserts), and does
# not use libuv itself (uv.h, uv_* calls, Loop::raw()). Whatever else a plugin needs is added to
# the plugin API, once, for every plugin.
# usage: tools/lint/plugin_includes.sh [SOURCE_DIR]   exit 0 clean, 1 with findings.
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ ! -d "$root/plugins" ]; then
  echo "plugin-include check: no plugins/ under $root" >&2
  exit 1
fi
files=(--include='*.cpp' --include='*.cc' --include='*.h' --include='*.hpp')
status=0
report() {
  echo "$1"
  echo "${2//$root\//}"
  status=1
}
# Every #include of an agent/ header (quotes or angle brackets), minus the allowed folders.
hits=$(grep -rnE "${files[@]}" '^\s*#\s*include\s*[<"]agent/' "$root/plugins" \
       | grep -vE '#\s*include\s*[<"]agent/(plugin|core)/[^/"<>]+[">]' || true)
[ -n "$hits" ] && report "plugins/ may include only agent/plugin/ and agent/core/ headers; found:" "$hits"
# libuv itself (comment lines are skipped).
hits=$(grep -rnE "${files[@]}" '#\s*include\s*[<"]uv\.h[">]|\buv_[a-z0-9_]+\s*\(|\braw\(\)' \
         "$root/plugins" | grep -vE '^[^:]+:[0-9]+:\s*//' || true)
[ -n "$hits" ] && report "plugins/ use libuv only through agent/plugin/ (loop.h, net.h); found:" "$hits"
[ $status -eq 0 ] && echo "plugin-include check: clean"
exit $status
