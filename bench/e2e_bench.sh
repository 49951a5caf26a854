#!/usr/bin/env bash
# End-to-end benchmark: ingestd tails a deterministic nginx access log from the head, encodes
# multijson, gzips and streams it into kusto-local in --discard mode. Prints MB/s of raw log,
# records/s, CPU seconds per GB and peak RSS of ingestd, and `gzip -1` over the same file as a
# yardstick, and the compression ratio (bytes of log per byte on the wire).
#   bench/e2e_bench.sh [SIZE_MIB=1024] [CODEC=auto] [BUILD_DIR=build]
# Environment: FORMAT (multijson, txt, ...; default multijson), LEVEL (compression.level: a
# number or adaptive; default 1), RATE (MB/s: the log is appended at this rate while ingestd
# tails it, instead of being there from the start; default 0 = all at once, full speed),
# PARSER (none, default; json: the log is JSON application lines parsed with `parser: json`;
# regex: the nginx log parsed with an nginx regex, time_key and types).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-1024}
CODEC=${2:-auto}
BUILD=${3:-build}
FORMAT=${FORMAT:-multijson}
LEVEL=${LEVEL:-1}
RATE=${RATE:-0}
PARSER=${PARSER:-none}
BIN=$BUILD/bin
for b in ingestd kusto-local bench_gen_log; do
  [ -x "$BIN/$b" ] || { echo "missing $BIN/$b: cmake --build $BUILD --target ingestd kusto-local bench_gen_log"; exit 2; }
done
WORK=$(mktemp -d /tmp/ingestd-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$WORK/logs"
SRC="$WORK/logs/access.log"
[ "$RATE" != 0 ] && SRC="$WORK/source.log"
GEN_KIND=""
[ "$PARSER" = json ] && GEN_KIND=json
read -r BYTES LINES < <("$BIN/bench_gen_log" "$SRC" "$SIZE_MIB" 20261123 $GEN_KIND)
echo "log: $BYTES bytes, $LINES lines (deterministic nginx access log${GEN_KIND:+, as JSON lines}), parser $PARSER"

# Yardstick: gzip -1 over the same file, one core.
GZ_START=$(date +%s.%N)
gzip -1 -c "$SRC" >/dev/null
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
    read_chunk_bytes: ${READ_CHUNK:-1MiB}
$(case "$PARSER" in
  json) echo "    parser: json" ;;
  regex) cat <<'P'
    parser:
      type: regex
      pattern: '^(?<remote_addr>\S+) \S+ (?<remote_user>\S+) \[(?<time>[^\]]+)\] "(?<method>[A-Z]+) (?<path>[^ "]*) (?<protocol>[^"]*)" (?<status>\d{3}) (?<bytes>\d+|-) "(?<referer>[^"]*)" "(?<user_agent>[^"]*)"$'
      time_key: time
      time_format: '%d/%b/%Y:%H:%M:%S %z'
      types: {status: int, bytes: int}
P
  ;;
esac)
outputs:
  - name: adx
    type: kusto
    cluster: $URL
    database: Logs
    table: NginxAccess
    format: $FORMAT
    auth: { method: none }
    compression: { codec: $CODEC, level: $LEVEL }
YAML

START=$(date +%s.%N)
"${INGESTD:-$BIN/ingestd}" run -c "$WORK/ingestd.yaml" 2>"$WORK/ingestd.err" &
ING_PID=$!
pids+=($ING_PID)
if [ "$RATE" != 0 ]; then
  # Appends whole lines at RATE MB/s, in 64 KiB writes, so the tail sees a steady stream.
  python3 - "$SRC" "$WORK/logs/access.log" "$RATE" <<'PY' &
import sys, time
src, dst, rate = sys.argv[1], sys.argv[2], float(sys.argv[3]) * 1e6
with open(src, "rb") as f, open(dst, "ab", buffering=0) as out:
    start, sent, carry = time.monotonic(), 0, b""
    while True:
        block = f.read(65536)
        if not block:
            break
        block = carry + block
        cut = block.rfind(b"\n") + 1
        out.write(block[:cut]); carry = block[cut:]
        sent += cut
        ahead = sent / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    out.write(carry)
PY
  pids+=($!)
fi
records() { curl -s "$URL/kusto-local/stats" | sed -n 's/.*"ingest":{[^}]*"records":\([0-9]*\).*/\1/p'; }
wire_bytes() { curl -s "$URL/kusto-local/stats" | sed -n 's/.*"ingest":{[^}]*"wire_bytes":\([0-9]*\).*/\1/p'; }
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
WIRE=$(wire_bytes)
kill -TERM "$ING_PID"; wait "$ING_PID" || true

SECS=$(echo "$END - $START" | bc -l)
CPU=$(echo "($UT + $ST) / $TICKS" | bc -l)
KCPU=$(echo "($KUT + $KST) / $TICKS" | bc -l)
GB=$(echo "$BYTES / 1000000000" | bc -l)
printf 'codec, level, format:   %s, %s, %s%s\n' "$CODEC" "$LEVEL" "$FORMAT" \
  "$([ "$RATE" != 0 ] && echo ", appended at $RATE MB/s")"
printf 'compression ratio:      %.2f (bytes of log per byte on the wire, %s wire bytes)\n' \
  "$(echo "$BYTES / $WIRE" | bc -l)" "$WIRE"
printf 'wall time:              %.2f s\n' "$SECS"
printf 'throughput:             %.1f MB/s of raw log, %.0f records/s\n' \
  "$(echo "$BYTES / 1000000 / $SECS" | bc -l)" "$(echo "$LINES / $SECS" | bc -l)"
printf 'ingestd CPU:            %.2f s (%.2f CPU s per GB)\n' "$CPU" "$(echo "$CPU / $GB" | bc -l)"
printf 'kusto-local CPU:        %.2f s\n' "$KCPU"
printf 'ingestd peak RSS:       %.1f MiB\n' "$(echo "$HWM / 1024" | bc -l)"
printf 'gzip -1 (one core):     %.2f s, %.1f MB/s (%.2f CPU s per GB)\n' "$GZ_SECS" \
  "$(echo "$BYTES / 1000000 / $GZ_SECS" | bc -l)" "$(echo "$GZ_SECS / $GB" | bc -l)"
printf 'ingestd / gzip -1:      %.2fx\n' "$(echo "$GZ_SECS / $SECS" | bc -l)"
