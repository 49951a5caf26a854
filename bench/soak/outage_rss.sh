#!/usr/bin/env bash
# Memory during an outage with real (compressible) logs: tails a deterministic nginx log from
# its head while the cluster refuses every connection, and samples ingestd's RSS and its memory
# budget once a second. Prints min/max RSS once the budget is full, and the peak.
#   bench/soak/outage_rss.sh [SIZE_MIB=512] [MEMORY_LIMIT=64MiB] [SECONDS=60]
# Needs a release build in build/ (BUILD_DIR overrides). Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
SIZE_MIB=${1:-512}
LIMIT=${2:-64MiB}
SECONDS_TO_RUN=${3:-60}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
"$BUILD_DIR/bin/bench_gen_log" "$work/access.log" "$SIZE_MIB" >/dev/null
# A port that is bound and never listens: every connection is refused.
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat >"$work/ingestd.yaml" <<YAML
service:
  state_dir: $work/state
  memory_limit: $LIMIT
  http: { listen: 127.0.0.1:0 }
inputs:
  - name: nginx
    type: tail
    paths: ["$work/access.log"]
    read_from: head
outputs:
  - name: adx
    type: kusto
    cluster: http://127.0.0.1:$port
    database: Logs
    table: Access
    format: multijson
    mapping: access_json
    auth: { method: none }
    retry: { initial: 1s, max: 5s }
YAML
"$BUILD_DIR/bin/ingestd" run -c "$work/ingestd.yaml" 2>"$work/ingestd.err" &
pid=$!
for _ in $(seq 50); do grep -q "port" "$work/ingestd.err" 2>/dev/null && break; sleep 0.1; done
mport=$(grep -o 'on port [0-9]*' "$work/ingestd.err" | grep -o '[0-9]*$')
min=0; max=0; peak=0
for i in $(seq "$SECONDS_TO_RUN"); do
  sleep 1
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  used=$(curl -s "http://127.0.0.1:$mport/metrics" | awk '/^ingestd_memory_budget_used_bytes/ {printf "%d", $2}')
  read_bytes=$(curl -s "http://127.0.0.1:$mport/metrics" | awk '/^ingestd_input_bytes_total/ {printf "%d", $2}')
  echo "t=${i}s rss=$((rss / 1024))MiB budget_used=$((used >> 20))MiB read=$((read_bytes >> 20))MiB"
  peak=$hwm
  if [ "$i" -ge 10 ]; then
    if [ "$min" -eq 0 ] || [ "$rss" -lt "$min" ]; then min=$rss; fi
    if [ "$rss" -gt "$max" ]; then max=$rss; fi
  fi
done
kill -TERM $pid; wait $pid || true
echo "memory_limit=$LIMIT log=${SIZE_MIB}MiB: peak RSS $((peak / 1024)) MiB; from t=10s: min $((min / 1024)) MiB, max $((max / 1024)) MiB"
