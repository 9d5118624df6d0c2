#!/usr/bin/env bash
# The validate flood of issue 18: 128 concurrent POST /api/v1/workflows/validate
# of a ~1 MiB workflow text (about 17,000 tasks), with /health probed every
# 10 ms. For each mode a fresh server: peak RSS (VmHWM), /health p50/p99/max,
# the status of every request (200, 503 BUSY, anything else).
#
# Modes: "budget" (the default validation.memory_budget_bytes, 512 MiB, and
# validation.max_wait_ms, 10 s) and "unbounded" (the same binary with a 1 TiB
# budget: every request admitted at once, as before the budget existed).
#
# Usage: scripts/bench-flood.sh [BIN] [MODES...]
# Env:   CONCURRENCY (128), YAML_BYTES (1040000), PORT (18590), plus any
#        ATTUNE__VALIDATION__* to try other budgets.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/target/release/attune}
shift || true
MODES=("$@")
[[ ${#MODES[@]} -gt 0 ]] || MODES=(unbounded budget)
PORT=${PORT:-18590}
CONCURRENCY=${CONCURRENCY:-128}
YAML_BYTES=${YAML_BYTES:-1040000}
PASSWORD=bench-password-1
for tool in curl jq python3 "$BIN"; do
    command -v "$tool" >/dev/null || { echo "bench-flood: missing $tool" >&2; exit 2; }
done
SERVER_PID=
WORK=$(mktemp -d /tmp/attune-flood.XXXXXX)
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
echo "binary: $BIN"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in "${MODES[@]}"; do
    D=$WORK/$mode
    mkdir -p "$D/data" "$D/packs/flood"
    extra=()
    if [[ $mode == unbounded ]]; then
        extra=(env ATTUNE__VALIDATION__MEMORY_BUDGET_BYTES=1099511627776)
    fi
    ATTUNE__DATA_DIR=$D/data ATTUNE__PACKS_BASE_DIR=$D/packs ATTUNE__SERVER__PORT=$PORT \
        ATTUNE__ADMIN_PASSWORD=$PASSWORD "${extra[@]}" "$BIN" serve >>"$WORK/server-$mode.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
        sleep 0.05
    done
    TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/auth/login" -H 'content-type: application/json' \
        -d "{\"login\":\"admin\",\"password\":\"$PASSWORD\"}" | jq -r .data.access_token)
    curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/packs" -H "Authorization: Bearer $TOKEN" \
        -H 'content-type: application/json' \
        -d '{"ref":"flood","label":"flood","version":"1.0.0"}' >/dev/null
    echo "$mode: load before $(cut -d' ' -f1 /proc/loadavg): $(python3 "$ROOT/scripts/lib/flood.py" "$PORT" "$TOKEN" "$SERVER_PID" "$CONCURRENCY" "$YAML_BYTES")"
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    sleep 2
done
