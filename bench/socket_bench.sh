#!/usr/bin/env bash
# Socket benchmark: RFC 5424 syslog (~200-byte messages, octet-counted) over CONNS TCP
# connections into a `type: syslog` input, parsed, encoded as multijson, gzipped and streamed
# into kusto-local --discard. Prints MB/s of messages and messages/s, CPU seconds per GB and
# peak RSS of ingestd, and `gzip -1` over the same bytes as a yardstick.
#   bench/socket_bench.sh [MESSAGES=5000000] [CONNS=2] [BUILD_DIR=build]
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=${1:-5000000}
CONNS=${2:-2}
BUILD=${3:-build}
BIN=$BUILD/bin
for b in ingestd kusto-local bench_syslog_send; do
  [ -x "$BIN/$b" ] || { echo "missing $BIN/$b: cmake --build $BUILD"; exit 2; }
done
WORK=$(mktemp -d /tmp/ingestd-sockbench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN/kusto-local" --listen 127.0.0.1:0 --database Logs --discard >"$WORK/kl.out" 2>"$WORK/kl.err" &
pids+=($!)
KL_PID=$!
for _ in $(seq 100); do grep -q "^listening on" "$WORK/kl.out" 2>/dev/null && break; sleep 0.05; done
URL="http://$(sed -n 's/^listening on //p' "$WORK/kl.out" | head -1)"

cat >"$WORK/ingestd.yaml" <<YAML
service:
  state_dir: $WORK/state
  log_level: info
  http: { listen: 127.0.0.1:0 }
inputs:
  - name: syslog
    type: syslog
    protocol: tcp
    listen: 127.0.0.1:0
    framing: octet-counted
outputs:
  - name: adx
    type: kusto
    cluster: $URL
    database: Logs
    table: Syslog
    format: multijson
    mapping: syslog_json
    auth: { method: none }
YAML
"${INGESTD:-$BIN/ingestd}" run -c "$WORK/ingestd.yaml" 2>"$WORK/ingestd.err" &
ING_PID=$!
pids+=($ING_PID)
PORT=""
for _ in $(seq 200); do
  PORT=$(sed -n 's/.*Listening on tcp 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/ingestd.err" | head -1)
  [ -n "$PORT" ] && break
  sleep 0.05
done
[ -n "$PORT" ] || { echo "ingestd did not start"; cat "$WORK/ingestd.err"; exit 1; }

records() { curl -s "$URL/kusto-local/stats" | sed -n 's/.*"ingest":{[^}]*"records":\([0-9]*\).*/\1/p'; }
START=$(date +%s.%N)
BYTES=$("$BIN/bench_syslog_send" "$PORT" "$TOTAL" "$CONNS")
deadline=$(( $(date +%s) + 1800 ))
while :; do
  r=$(records); r=${r:-0}
  [ "$r" -ge "$TOTAL" ] && break
  if ! kill -0 "$ING_PID" 2>/dev/null; then echo "ingestd exited"; cat "$WORK/ingestd.err"; exit 1; fi
  [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out at $r records"; exit 1; }
  sleep 0.1
done
END=$(date +%s.%N)
TICKS=$(getconf CLK_TCK)
read -r UT ST < <(awk '{print $14, $15}' "/proc/$ING_PID/stat")
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$ING_PID/status")
kill -TERM "$ING_PID"; wait "$ING_PID" || true

# Yardstick: gzip -1 over the same messages (regenerated to a file by the sender's format).
"$BIN/bench_syslog_send" --print 0 "$TOTAL" 1 >"$WORK/msgs.txt" 2>/dev/null || true
SECS=$(echo "$END - $START" | bc -l)
CPU=$(echo "($UT + $ST) / $TICKS" | bc -l)
GB=$(echo "$BYTES / 1000000000" | bc -l)
printf 'messages:               %s over %s TCP connections, %s bytes\n' "$TOTAL" "$CONNS" "$BYTES"
printf 'wall time:              %.2f s\n' "$SECS"
printf 'throughput:             %.1f MB/s of messages, %.0f messages/s\n' \
  "$(echo "$BYTES / 1000000 / $SECS" | bc -l)" "$(echo "$TOTAL / $SECS" | bc -l)"
printf 'ingestd CPU:            %.2f s (%.2f CPU s per GB)\n' "$CPU" "$(echo "$CPU / $GB" | bc -l)"
printf 'ingestd peak RSS:       %.1f MiB\n' "$(echo "$HWM / 1024" | bc -l)"
if [ -s "$WORK/msgs.txt" ]; then
  GZ_START=$(date +%s.%N); gzip -1 -c "$WORK/msgs.txt" >/dev/null; GZ_END=$(date +%s.%N)
  GZ_SECS=$(echo "$GZ_END - $GZ_START" | bc -l)
  printf 'gzip -1 (one core):     %.2f s, %.1f MB/s\n' "$GZ_SECS" \
    "$(echo "$(stat -c %s "$WORK/msgs.txt") / 1000000 / $GZ_SECS" | bc -l)"
fi
