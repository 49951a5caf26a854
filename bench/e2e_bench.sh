#!/usr/bin/env bash
# End-to-end benchmark: ingestd tails a deterministic nginx access log from the head, encodes
# multijson, gzips and streams it into kusto-local in --discard mode. Prints MB/s of raw log,
# records/s, CPU seconds per GB and peak RSS of ingestd, and `gzip -1` over the same file as a
# yardstick.
#   bench/e2e_bench.sh [SIZE_MIB=1024] [CODEC=auto] [BUILD_DIR=build]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-1024}
CODEC=${2:-auto}
BUILD=${3:-build}
BIN=$BUILD/bin
for b in ingestd kusto-local bench_gen_log; do
  [ -x "$BIN/$b" ] || { echo "missing $BIN/$b: cmake --build $BUILD --target ingestd kusto-local bench_gen_log"; exit 2; }
done
WORK=$(mktemp -d /tmp/ingestd-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$WORK/logs"
read -r BYTES LINES < <("$BIN/bench_gen_log" "$WORK/logs/access.log" "$SIZE_MIB")
echo "log: $BYTES bytes, $LINES lines (deterministic nginx access log)"

# Yardstick: gzip -1 over the same file, one core.
GZ_START=$(date +%s.%N)
gzip -1 -c "$WORK/logs/access.log" >/dev/null
GZ_END=$(date +%s.%N)
GZ_SECS=$(echo "$GZ_END - $GZ_START" | bc -l)

"$BIN/kusto-local" --listen 127.0.0.1:0 --database Logs --discard >"$WORK/kl.out" 2>"$WORK/kl.err" &
pids+=($!)
KL_PID=$!
for _ in $(seq 100); do grep -q "^listening on" "$WORK/kl.out" 2>/dev/null && break; sleep 0.05; done
URL="http://$(sed -n 's/^listening on //p' "$WORK/kl.out" | head -1)"

cat >"$WORK/ingestd.yaml" <<YAML
service:
  state_dir: $WORK/state
  log_level: warn
  http: { listen: 127.0.0.1:0 }
inputs:
  - name: nginx
    type: tail
    paths: ["$WORK/logs/access.log"]
    read_from: head
outputs:
  - name: adx
    type: kusto
    cluster: $URL
    database: Logs
    table: NginxAccess
    format: multijson
    mapping: nginx_json
    auth: { method: none }
    compression: { codec: $CODEC, level: 1 }
YAML

START=$(date +%s.%N)
"$BIN/ingestd" run -c "$WORK/ingestd.yaml" 2>"$WORK/ingestd.err" &
ING_PID=$!
pids+=($ING_PID)
records() { curl -s "$URL/kusto-local/stats" | sed -n 's/.*"ingest":{[^}]*"records":\([0-9]*\).*/\1/p'; }
deadline=$(( $(date +%s) + 1800 ))
while :; do
  r=$(records); r=${r:-0}
  [ "$r" -ge "$LINES" ] && break
  if ! kill -0 "$ING_PID" 2>/dev/null; then echo "ingestd exited"; cat "$WORK/ingestd.err"; exit 1; fi
  [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out at $r records"; exit 1; }
  sleep 0.2
done
END=$(date +%s.%N)
TICKS=$(getconf CLK_TCK)
read -r UT ST < <(awk '{print $14, $15}' "/proc/$ING_PID/stat")
read -r KUT KST < <(awk '{print $14, $15}' "/proc/$KL_PID/stat")
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$ING_PID/status")
kill -TERM "$ING_PID"; wait "$ING_PID" || true

SECS=$(echo "$END - $START" | bc -l)
CPU=$(echo "($UT + $ST) / $TICKS" | bc -l)
KCPU=$(echo "($KUT + $KST) / $TICKS" | bc -l)
GB=$(echo "$BYTES / 1000000000" | bc -l)
printf 'codec:                  %s\n' "$CODEC"
printf 'wall time:              %.2f s\n' "$SECS"
printf 'throughput:             %.1f MB/s of raw log, %.0f records/s\n' \
  "$(echo "$BYTES / 1000000 / $SECS" | bc -l)" "$(echo "$LINES / $SECS" | bc -l)"
printf 'ingestd CPU:            %.2f s (%.2f CPU s per GB)\n' "$CPU" "$(echo "$CPU / $GB" | bc -l)"
printf 'kusto-local CPU:        %.2f s\n' "$KCPU"
printf 'ingestd peak RSS:       %.1f MiB\n' "$(echo "$HWM / 1024" | bc -l)"
printf 'gzip -1 (one core):     %.2f s, %.1f MB/s (%.2f CPU s per GB)\n' "$GZ_SECS" \
  "$(echo "$BYTES / 1000000 / $GZ_SECS" | bc -l)" "$(echo "$GZ_SECS / $GB" | bc -l)"
