#!/usr/bin/env bash
# Idle TCP connections: how much memory N open, silent connections cost a `tcp` input (and a
# `syslog` input over TLS with TLS=1: each connection then also holds an OpenSSL session that
# finished its handshake). Prints ingestd's RSS before and with the connections, per connection.
#   bench/idle_connections.sh [CONNS=1000] [BUILD_DIR=build]
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${1:-1000}
BUILD=${2:-build}
BIN=$BUILD/bin
TLS=${TLS:-0}
for b in ingestd kusto-local; do
  [ -x "$BIN/$b" ] || { echo "missing $BIN/$b: cmake --build $BUILD"; exit 2; }
done
WORK=$(mktemp -d /tmp/ingestd-idleconn.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
ulimit -n $((CONNS * 2 + 256))

"$BIN/kusto-local" --listen 127.0.0.1:0 --database Logs --discard >"$WORK/kl.out" 2>"$WORK/kl.err" &
pids+=($!)
for _ in $(seq 100); do grep -q "^listening on" "$WORK/kl.out" 2>/dev/null && break; sleep 0.05; done
URL="http://$(sed -n 's/^listening on //p' "$WORK/kl.out" | head -1)"

TLS_YAML=""
if [ "$TLS" = 1 ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
  TLS_YAML="    tls: { cert_file: $WORK/cert.pem, key_file: $WORK/key.pem }"
fi
cat >"$WORK/ingestd.yaml" <<YAML
service:
  state_dir: $WORK/state
  log_level: info
  http: { listen: 127.0.0.1:0 }
inputs:
  - name: app
    type: tcp
    listen: 127.0.0.1:0
    max_connections: $((CONNS + 100))
$TLS_YAML
outputs:
  - name: adx
    type: kusto
    cluster: $URL
    database: Logs
    table: Events
    auth: { method: none }
YAML
"$BIN/ingestd" run -c "$WORK/ingestd.yaml" 2>"$WORK/ingestd.err" &
ING_PID=$!
pids+=($ING_PID)
PORT=""
for _ in $(seq 200); do
  PORT=$(sed -n 's/.*Listening on tcp 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/ingestd.err" | head -1)
  [ -n "$PORT" ] && break
  sleep 0.05
done
[ -n "$PORT" ] || { echo "ingestd did not start"; cat "$WORK/ingestd.err"; exit 1; }
sleep 1
rss() { awk '/VmRSS/ {print $2}' "/proc/$ING_PID/status"; }
metric() { curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 ~ "^"m {s+=$2} END {print s+0}'; }
MPORT=$(sed -n 's/.*on port \([0-9]*\).*/\1/p' "$WORK/ingestd.err" | head -1)
BEFORE=$(rss)

# The client: opens CONNS connections (TLS: completes each handshake, then sends one line),
# holds them open until told to stop, and closes them.
python3 - "$PORT" "$CONNS" "$TLS" "$WORK/go" <<'PY' &
import os, socket, ssl, sys, time
port, n, tls, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
conns = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if tls:
        s = ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(b"hello from an idle connection\n")
    conns.append(s)
open(flag, "w").close()
deadline = time.time() + 120
while os.path.exists(flag) and time.time() < deadline:
    time.sleep(0.1)
for s in conns:
    s.close()
PY
CLIENT=$!
pids+=($CLIENT)
for _ in $(seq 1200); do [ -e "$WORK/go" ] && break; sleep 0.1; done
for _ in $(seq 100); do
  [ "$(metric 'ingestd_input_connections')" -ge "$CONNS" ] && break
  sleep 0.1
done
sleep 2
WITH=$(rss)
OPEN=$(metric 'ingestd_input_connections')
rm -f "$WORK/go"
wait "$CLIENT" || true
printf 'connections open:       %s%s\n' "$OPEN" "$([ "$TLS" = 1 ] && echo ' (TLS)')"
printf 'ingestd RSS before:     %.1f MiB\n' "$(echo "$BEFORE / 1024" | bc -l)"
printf 'ingestd RSS with them:  %.1f MiB\n' "$(echo "$WITH / 1024" | bc -l)"
printf 'cost:                   %.1f MiB in all, %.1f KiB per connection\n' \
  "$(echo "($WITH - $BEFORE) / 1024" | bc -l)" "$(echo "($WITH - $BEFORE) / $CONNS" | bc -l)"
