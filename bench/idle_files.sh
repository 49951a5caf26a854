#!/usr/bin/env bash
# Idle cost of tailed files: N files, each with a few lines, are shipped into kusto-local
# (--discard); once every record is acknowledged, ingestd's CPU is sampled for SECONDS while
# nothing is written (and, with ACTIVE=1, while one file gets a line every 100 ms). Prints the
# share of one core ingestd used, from /proc/<pid>/stat.
#   bench/idle_files.sh [FILES=3000] [SECONDS=30] [BUILD_DIR=build]
# Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-3000}
SECS=${2:-30}
BUILD=${3:-build}
ACTIVE=${ACTIVE:-0}
BIN=$BUILD/bin
INGESTD=${INGESTD:-$BIN/ingestd}
WORK=$(mktemp -d /tmp/ingestd-idle.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$WORK/logs"
for i in $(seq "$FILES"); do
  printf 'file %d line 1\nfile %d line 2\n' "$i" "$i" >"$WORK/logs/app-$i.log"
done
"$BIN/kusto-local" --listen 127.0.0.1:0 --database Logs --discard >"$WORK/kl.out" 2>"$WORK/kl.err" &
pids+=($!)
for _ in $(seq 100); do grep -q "^listening on" "$WORK/kl.out" 2>/dev/null && break; sleep 0.05; done
URL="http://$(sed -n 's/^listening on //p' "$WORK/kl.out" | head -1)"
cat >"$WORK/ingestd.yaml" <<YAML
service:
  state_dir: $WORK/state
  http: { listen: 127.0.0.1:0 }
inputs:
  - name: apps
    type: tail
    paths: ["$WORK/logs/*.log"]
    read_from: head
outputs:
  - name: adx
    type: kusto
    cluster: $URL
    database: Logs
    table: Apps
    format: txt
    auth: { method: none }
YAML
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
"$INGESTD" run -c "$WORK/ingestd.yaml" 2>"$WORK/ingestd.err" &
pid=$!
pids+=($pid)
mport=""
for _ in $(seq 100); do
  mport=$(grep -o 'on port [0-9]*' "$WORK/ingestd.err" 2>/dev/null | grep -o '[0-9]*$' || true)
  [ -n "$mport" ] && break
  sleep 0.1
done
want=$((FILES * 2))
delivered=0
for _ in $(seq 600); do
  delivered=$(curl -s "http://127.0.0.1:$mport/metrics" | awk '/^ingestd_output_records_total/ {s+=$2} END {printf "%d", s}')
  [ "$delivered" -ge "$want" ] && break
  sleep 0.1
done
[ "$delivered" -ge "$want" ] || { echo "only $delivered of $want records delivered"; exit 1; }
sleep 3  # the last checkpoint write and scan settle
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
writer=""
if [ "$ACTIVE" = 1 ]; then
  ( for n in $(seq $((SECS * 10))); do echo "active line $n" >>"$WORK/logs/app-1.log"; sleep 0.1; done ) &
  writer=$!
  pids+=($writer)
fi
t0=$(ticks)
s0=$(date +%s.%N)
sleep "$SECS"
t1=$(ticks)
s1=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
pct=$(echo "scale=3; 100 * ($t1 - $t0) / $hz / ($s1 - $s0)" | bc -l)
echo "files=$FILES active=$ACTIVE seconds=$SECS: ingestd CPU $pct % of one core ($((t1 - t0)) ticks at $hz Hz), RSS $((rss / 1024)) MiB"
