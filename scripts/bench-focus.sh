#!/usr/bin/env bash
# A focused piece of scripts/bench.sh for the three performance targets (docs/PERFORMANCE.md) that
# depend on how records are read, held and written: peak memory of a
# 10,000-workflow validate / cold sync / re-sync (VmHWM after each step),
# the authenticated single-workflow GET and the page of 100 against
# /health, and the single GET while a 1,000-workflow sync runs every 3 s.
# Same steps and wrk settings as bench.sh; one binary per run, so two
# builds can be compared on the same corpus.
#
# Usage: scripts/bench-focus.sh [BIN] [CORPUS_DIR]
# Env:   WRK_SECONDS (default 20), PORT (default 18490), KEEP=1.
# The corpus dir is made by scripts/gen-corpus on first use and reused.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/sync-loop.sh
source "$ROOT/scripts/lib/sync-loop.sh"
BIN=${1:-$ROOT/target/release/attune}
CORPUS=${2:-/tmp/attune-focus-corpus}
WRK_SECONDS=${WRK_SECONDS:-20}
PORT=${PORT:-18490}
PASSWORD=bench-password-1
for tool in curl jq wrk "$BIN"; do
    command -v "$tool" >/dev/null || { echo "bench-focus: missing $tool" >&2; exit 2; }
done
if [[ ! -d "$CORPUS/c10k/bench" ]]; then
    "$ROOT/scripts/gen-corpus" "$CORPUS/c10k" --packs 1 --workflows 10000 >&2
    "$ROOT/scripts/gen-corpus" "$CORPUS/load_a" --packs 1 --workflows 1000 --seed 7 --name load >&2
    "$ROOT/scripts/gen-corpus" "$CORPUS/load_b" --packs 1 --workflows 1000 --seed 8 --name load >&2
fi

WORK=$(mktemp -d /tmp/attune-focus.XXXXXX)
SERVER_PID=
LOADER=
cleanup() {
    if [[ -n "$LOADER" ]]; then kill "$LOADER" 2>/dev/null || true; fi
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    if [[ -z "${KEEP:-}" ]]; then rm -rf "$WORK"; else echo "work dir kept: $WORK" >&2; fi
}
trap cleanup EXIT
now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }
hwm() { awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$SERVER_PID/status"; }
rss() { awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$SERVER_PID/status"; }

D=$WORK/s10k
mkdir -p "$D/data" "$D/packs"
if curl -s -o /dev/null "http://127.0.0.1:$PORT/health"; then
    echo "bench-focus: port $PORT is in use; set PORT" >&2
    exit 1
fi
# MALLOC_ARENA_MAX is left as the environment has it (unset here).
ATTUNE__DATA_DIR=$D/data ATTUNE__PACKS_BASE_DIR=$D/packs ATTUNE__SERVER__PORT=$PORT \
    ATTUNE__ADMIN_PASSWORD=$PASSWORD "$BIN" serve >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    sleep 0.05
done
TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/auth/login" -H 'content-type: application/json' \
    -d "{\"login\":\"admin\",\"password\":\"$PASSWORD\"}" | jq -r .data.access_token)
api() {
    local -a body=()
    if [[ -n "${3:-}" ]]; then body=(-d "$3"); fi
    curl -sf -X "$1" "http://127.0.0.1:$PORT$2" -H "Authorization: Bearer $TOKEN" \
        -H 'content-type: application/json' "${body[@]}"
}
timed() {
    local t0
    t0=$(now_ns)
    api POST "$1" >"$WORK/last.json"
    echo "$(ms_since "$t0") ms, VmHWM $(hwm) MiB, VmRSS $(rss) MiB, $(jq -c '.data | {registered_count, unchanged_count, validated_count, error_count}' "$WORK/last.json")"
}
api POST /api/v1/packs '{"ref":"bench","label":"bench","version":"1.0.0"}' >/dev/null
cp -r "$CORPUS/c10k/bench" "$D/packs/bench"
echo "binary: $BIN"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-unset}"
echo "started: VmHWM $(hwm) MiB"
echo "validate 10,000: $(timed /api/v1/packs/bench/workflows/validate)"
echo "cold sync 10,000: $(timed /api/v1/packs/bench/workflows/sync)"
echo "re-sync 10,000: $(timed /api/v1/packs/bench/workflows/sync)"

AUTH="Authorization: Bearer $TOKEN"
run_wrk() { # label path [auth]
    local out
    if [[ -n "${3:-}" ]]; then
        out=$(wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency -H "$AUTH" "http://127.0.0.1:$PORT$2")
    else
        out=$(wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency "http://127.0.0.1:$PORT$2")
    fi
    local rps p99 non2xx sock
    rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    non2xx=$(awk '/Non-2xx/ { print $5 }' <<<"$out")
    sock=$(awk '/Socket errors/ { print }' <<<"$out")
    echo "$1: $rps rps, p99 $p99, non-2xx ${non2xx:-0}, ${sock:-no socket errors}, VmHWM $(hwm) MiB"
}
echo "body bytes: one $(curl -s -H "$AUTH" "http://127.0.0.1:$PORT/api/v1/workflows/bench.wf_0042" | wc -c), page $(curl -s -H "$AUTH" "http://127.0.0.1:$PORT/api/v1/workflows?per_page=100" | wc -c)"
run_wrk "GET /health" /health
run_wrk "GET /api/v1/workflows/bench.wf_0042" /api/v1/workflows/bench.wf_0042 auth
run_wrk "GET /api/v1/workflows?per_page=100" "/api/v1/workflows?per_page=100" auth
run_wrk "GET /auth/me" /auth/me auth

api POST /api/v1/packs '{"ref":"load","label":"load","version":"1.0.0"}' >/dev/null
SYNCS=$WORK/syncs.txt
: >"$SYNCS"
sync_loop "$D/packs" "$CORPUS/load_a" "$CORPUS/load_b" "$SYNCS" &
LOADER=$!
run_wrk "GET /api/v1/workflows/bench.wf_0042 during syncs" /api/v1/workflows/bench.wf_0042 auth
kill "$LOADER" 2>/dev/null || true
wait "$LOADER" 2>/dev/null || true
LOADER=
echo "syncs during that run (ms, registered, unchanged): $(tr '\n\t' '; ' <"$SYNCS")"
run_wrk "GET /api/v1/workflows/bench.wf_0042 idle again" /api/v1/workflows/bench.wf_0042 auth
echo "end: VmHWM $(hwm) MiB"
