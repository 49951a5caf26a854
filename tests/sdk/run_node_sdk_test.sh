#!/usr/bin/env bash
# SDK compatibility test (ctest sdk:node-streaming-ingest): installs the official Node.js Kusto
# SDK 7.x into a folder under the build dir (once; reused later), starts kusto-local with AAD
# auth, sets up a database, table, JSON mapping and streaming policy through /v1/rest/mgmt, and
# runs node_streaming_ingest.js (StreamingIngestClient.ingestFromFile on plain and .gz files, then
# queries with Client). Exit 77 (ctest SKIP_RETURN_CODE) when npm cannot install the packages.
# Usage: run_node_sdk_test.sh <build bin dir> [<work dir>]
set -uo pipefail

SKIP=77
BIN_DIR=${1:?usage: run_node_sdk_test.sh <bin dir> [work dir]}
WORK_DIR=${2:-$BIN_DIR/../sdk-node}
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KUSTO_LOCAL=$BIN_DIR/kusto-local
DB=SdkDb
CLIENT_ID=sdk-test-app
CLIENT_SECRET=sdk-test-secret
TENANT=kusto-local-tenant

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[ -x "$KUSTO_LOCAL" ] || fail "$KUSTO_LOCAL not built"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIP: node/npm not installed"
  exit $SKIP
fi

# 1. The SDK, installed once per build dir.
mkdir -p "$WORK_DIR" || fail "cannot create $WORK_DIR"
cd "$WORK_DIR" || fail "cannot cd to $WORK_DIR"
installed_major() {
  node -e 'try { const v = require(process.argv[1]).version; console.log(v.split(".")[0]); }
           catch (e) { console.log("none"); }' "$WORK_DIR/node_modules/$1/package.json"
}
if [ "$(installed_major azure-kusto-ingest)" != 7 ] ||
    [ "$(installed_major azure-kusto-data)" != 7 ]; then
  [ -f package.json ] || echo '{"name":"ingestd-sdk-compat","private":true}' > package.json
  echo "installing azure-kusto-ingest@7 azure-kusto-data@7 into $WORK_DIR"
  timeout 180 npm install --no-audit --no-fund --fetch-retries=1 --fetch-retry-mintimeout=2000 \
    --fetch-retry-maxtimeout=10000 azure-kusto-ingest@7 azure-kusto-data@7 > npm-install.log 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    cat npm-install.log
    # Only an unreachable registry is a skip; any other install failure is a failure.
    if [ $rc -eq 124 ] ||
        grep -Eq 'ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT' npm-install.log ||
        grep -Eq 'EAI_AGAIN|ENETUNREACH' npm-install.log ||
        grep -Eq 'EHOSTUNREACH|network' npm-install.log; then
      echo "SKIP: npm cannot reach the registry (exit $rc)"
      exit $SKIP
    fi
    fail "npm install failed (exit $rc)"
  fi
fi
version_of() {
  node -p "require('./node_modules/$1/package.json').version"
}
echo "SDK: azure-kusto-ingest $(version_of azure-kusto-ingest)," \
  "azure-kusto-data $(version_of azure-kusto-data)"
cp "$SRC_DIR/node_streaming_ingest.js" "$WORK_DIR/node_streaming_ingest.mjs" || fail "copy script"

# 2. kusto-local on a port chosen by the OS, killed on exit.
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ingestd-sdk-XXXXXX")
KL_PID=
cleanup() {
  if [ -n "$KL_PID" ] && kill -0 "$KL_PID" 2>/dev/null; then
    kill -TERM "$KL_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$KL_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$KL_PID" 2>/dev/null
  fi
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT
"$KUSTO_LOCAL" --listen 127.0.0.1:0 --database "$DB" --auth aad \
  --client "$CLIENT_ID:$CLIENT_SECRET" > "$RUN_DIR/stdout" 2> "$RUN_DIR/stderr" &
KL_PID=$!
URL=
for _ in $(seq 100); do  # up to 10 s
  line=$(head -n 1 "$RUN_DIR/stdout" 2>/dev/null)
  if [[ $line =~ ^listening\ on\ (127\.0\.0\.1:[0-9]+)$ ]]; then
    URL="http://${BASH_REMATCH[1]}"
    break
  fi
  kill -0 "$KL_PID" 2>/dev/null || break
  sleep 0.1
done
[ -n "$URL" ] || fail "kusto-local did not start: $(cat "$RUN_DIR/stdout" "$RUN_DIR/stderr")"
echo "kusto-local at $URL"

# 3. A token from kusto-local's own Entra-style token endpoint (client credentials).
TOKEN=$(curl -sS --max-time 10 -X POST "$URL/$TENANT/oauth2/v2.0/token" \
  --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$CLIENT_ID" \
  --data-urlencode "client_secret=$CLIENT_SECRET" --data-urlencode "scope=$URL/.default" |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
             try { console.log(JSON.parse(s).access_token || ""); }
             catch (e) { console.log(""); } });')
[ -n "$TOKEN" ] || fail "no access_token from $URL/$TENANT/oauth2/v2.0/token"

mgmt() {
  local body status
  body=$(node -e 'console.log(JSON.stringify({ db: process.argv[1], csl: process.argv[2] }))' \
    "$DB" "$1")
  status=$(curl -sS --max-time 10 -o "$RUN_DIR/mgmt.out" -w '%{http_code}' \
    -X POST "$URL/v1/rest/mgmt" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json; charset=utf-8' \
    -H 'Accept: application/json' --data-binary "$body")
  [ "$status" = 200 ] || fail "mgmt '$1' -> HTTP $status: $(cat "$RUN_DIR/mgmt.out")"
}
MAPPING='[{"column":"Name","Properties":{"Path":"$.n"}},'
MAPPING+='{"column":"Value","Properties":{"Path":"$.v.x"}},'
MAPPING+='{"column":"Flag","Properties":{"Path":"$.f"}}]'
for table in SdkEvents SdkEventsAad; do
  mgmt ".create table $table (Name:string, Value:long, Flag:bool)"
  mgmt ".create table $table ingestion json mapping \"sdk_json_mapping\" '$MAPPING'"
  mgmt ".alter table $table policy streamingingestion enable"
done

# 4. The SDK flow: withAccessToken, then withTokenProvider fetching client-credential tokens
# from kusto-local's own token endpoint.
mkdir -p "$RUN_DIR/data"
AAD_ARGS=("$CLIENT_ID" "$CLIENT_SECRET" "$TENANT")
timeout 120 node "$WORK_DIR/node_streaming_ingest.mjs" "$URL" "$DB" "$RUN_DIR/data" "$TOKEN" \
  "${AAD_ARGS[@]}"
rc=$?
if [ $rc -ne 0 ]; then
  echo "--- kusto-local stderr:" >&2
  tail -n 50 "$RUN_DIR/stderr" >&2
  fail "node_streaming_ingest exited with $rc"
fi

# 5. kusto-local stops cleanly on SIGTERM.
kill -TERM "$KL_PID"
wait "$KL_PID"
rc=$?
KL_PID=
[ $rc -eq 0 ] || fail "kusto-local exited with $rc after SIGTERM"
echo "PASS"
