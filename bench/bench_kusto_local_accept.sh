#!/usr/bin/env bash
# kusto-local accept rate: how many MB/s of gzip'd ~400 KiB multijson bodies kusto-local takes
# from one keep-alive client (curl, one connection), in --discard mode and in store mode.
# Usage: bench/bench_kusto_local_accept.sh [path/to/kusto-local] [discard requests] [store requests]
# Prints one line per mode; numbers go to docs/benchmarks.md ("kusto-local accept rate").
set -euo pipefail

BIN=${1:-$(dirname "$0")/../build/bin/kusto-local}
N_DISCARD=${2:-200}
N_STORE=${3:-50}
MAX_SECONDS=30
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[[ -x "$BIN" ]] || { echo "kusto-local binary not found: $BIN" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }

# Log-like JSON lines with varying ids, latencies and paths, so gzip sees realistic redundancy
# (about 8-10x). 11200 records are ~2.6 MB raw, ~400 KiB gzip'd: under the 4 MiB raw limit.
awk -v n=11200 'BEGIN {
  srand(42);
  split("info info info warn error debug", lv, " ");
  split("GET POST PUT DELETE", mt, " ");
  split("/api/items /api/users /api/orders /healthz /api/search /static/app.js", pa, " ");
  for (i = 0; i < n; i++) {
    printf("{\"Timestamp\":\"2024-05-01T12:%02d:%02d.%03dZ\",\"Level\":\"%s\",\"Host\":\"web-%02d\",", \
           int(i / 3600) % 60, int(i / 60) % 60, int(rand() * 1000), lv[1 + int(rand() * 6)], \
           int(rand() * 40));
    printf("\"Message\":\"%s %s/%d returned %d in %d ms\",\"RequestId\":\"%08x-%04x-%04x\",", \
           mt[1 + int(rand() * 4)], pa[1 + int(rand() * 6)], int(rand() * 100000), \
           (rand() < 0.9 ? 200 : 500), int(rand() * 900), int(rand() * 4294967295), \
           int(rand() * 65535), int(rand() * 65535));
    printf("\"Bytes\":%d,\"UserAgent\":\"Mozilla/5.0 (X11; Linux x86_64) bench/%d.%d\"}\n", \
           int(rand() * 100000), int(rand() * 5), int(rand() * 20));
  }
}' > "$WORK/body.json"
gzip -6 -c "$WORK/body.json" > "$WORK/body.json.gz"
RAW=$(stat -c %s "$WORK/body.json")
GZ=$(stat -c %s "$WORK/body.json.gz")
echo "body: $GZ bytes gzip ($RAW bytes raw, $(awk -v r="$RAW" -v g="$GZ" 'BEGIN{printf "%.1f", r/g}')x), 11200 records"

# Starts kusto-local with the given flags; sets URL.
start() {
  "$BIN" --listen 127.0.0.1:0 "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" &
  PIDS+=($!)
  for _ in $(seq 100); do
    if grep -q '^listening on ' "$WORK/out.txt" 2>/dev/null; then break; fi
    sleep 0.05
  done
  URL="http://$(head -1 "$WORK/out.txt" | sed 's/^listening on //')"
}

stop_last() {
  kill -TERM "${PIDS[-1]}"
  wait "${PIDS[-1]}" || true
  unset 'PIDS[-1]'
}

mgmt() {
  local code
  code=$(curl -s -o "$WORK/mgmt.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "{\"db\":\"Bench\",\"csl\":$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/"/')}" \
    "$URL/v1/rest/mgmt")
  [[ "$code" == 200 ]] || { echo "mgmt failed ($code): $1: $(cat "$WORK/mgmt.json")" >&2; exit 1; }
}

# utime + stime of a process, in clock ticks.
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# POSTs the body n times over one keep-alive connection; prints the rates.
run() {
  local mode=$1 n=$2
  local cfg="$WORK/curl.cfg"
  : > "$cfg"
  for _ in $(seq "$n"); do
    echo "url = \"$URL/v1/rest/ingest/Bench/Logs?streamFormat=multijson\"" >> "$cfg"
    echo "output = \"/dev/null\"" >> "$cfg"
  done
  local t0 t1 c0 c1
  c0=$(cpu_ticks "${PIDS[-1]}")
  t0=$(date +%s.%N)
  curl -s --max-time "$MAX_SECONDS" -H 'Content-Encoding: gzip' \
    -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/body.json.gz" \
    -w '%{http_code}\n' -K "$cfg" > "$WORK/codes.txt" || true
  t1=$(date +%s.%N)
  c1=$(cpu_ticks "${PIDS[-1]}")
  local ok
  ok=$(grep -c '^200$' "$WORK/codes.txt" || true)
  awk -v mode="$mode" -v ok="$ok" -v n="$n" -v gz="$GZ" -v raw="$RAW" -v t0="$t0" -v t1="$t1" \
    -v cpu="$(( c1 - c0 ))" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { s = t1 - t0; c = cpu / hz; if (c <= 0) c = 1 / hz;
             printf("%-8s %d/%d ok in %.2f s: %.1f req/s, %.1f MB/s gzip, %.1f MB/s raw; ",
                    mode, ok, n, s, ok / s, ok * gz / s / 1e6, ok * raw / s / 1e6);
             printf("server CPU %.2f s = %.1f ms/request, %.1f MB/s gzip per core\n",
                    c, 1000 * c / ok, ok * gz / c / 1e6) }'
}

start --discard
run discard "$N_DISCARD"
stop_last

start --database Bench
mgmt '.create table Logs (Timestamp:datetime, Level:string, Host:string, Message:string, RequestId:string, Bytes:long, UserAgent:string)'
mgmt '.alter table Logs policy streamingingestion enable'
run store "$N_STORE"
stop_last
