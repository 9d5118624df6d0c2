#!/usr/bin/env bash
# Issue 12 "one workflow record" (docs/PERFORMANCE.md): the figures a
# record layout moves, for two or more binaries on the same corpus, the
# binaries taking turns round by round so load on the shared box hits
# them alike (every other round in reverse order):
#   - a cold sync of the 1,000-workflow generated pack (fresh database),
#   - a re-sync of it (nothing changed: the heads a sync compares against),
#   - GET /api/v1/workflows?per_page=100 under wrk (p99, rps),
#   - GET /api/v1/workflows/{ref} under wrk (one workflow with its source).
#
# Usage: scripts/bench-record.sh BIN [BIN...]
# Env:   ROUNDS (default 3), WRK_SECONDS (default 10), PORT (default 18500),
#        CORPUS (default /tmp/attune-record-corpus; made on first use), KEEP=1.
# Needs: curl, jq, wrk.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
WRK_SECONDS=${WRK_SECONDS:-10}
PORT=${PORT:-18500}
CORPUS=${CORPUS:-/tmp/attune-record-corpus}
PASSWORD=bench-password-1
[[ $# -ge 1 ]] || { echo "usage: $0 BIN [BIN...]" >&2; exit 2; }
for tool in curl jq wrk "$@"; do
    command -v "$tool" >/dev/null || { echo "bench-record: missing $tool" >&2; exit 2; }
done
if [[ ! -d "$CORPUS/c1k/bench" ]]; then
    "$ROOT/scripts/gen-corpus" "$CORPUS/c1k" --packs 1 --workflows 1000 >&2
fi

WORK=$(mktemp -d /tmp/attune-record.XXXXXX)
SERVER_PID=
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    if [[ -z "${KEEP:-}" ]]; then rm -rf "$WORK"; else echo "work dir kept: $WORK" >&2; fi
}
trap cleanup EXIT
now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }

api() {
    local -a body=()
    if [[ -n "${3:-}" ]]; then body=(-d "$3"); fi
    curl -sf -X "$1" "http://127.0.0.1:$PORT$2" -H "Authorization: Bearer $TOKEN" \
        -H 'content-type: application/json' "${body[@]}"
}
wrk_row() { # path -> "rps p99"
    local out
    out=$(wrk -t2 -c32 -d"${WRK_SECONDS}s" --latency -H "Authorization: Bearer $TOKEN" \
        "http://127.0.0.1:$PORT$1")
    echo "$(awk '/Requests\/sec/ { print $2 }' <<<"$out") $(awk '$1 == "99%" { print $2 }' <<<"$out")"
}

echo "machine: $(nproc) cores, load at start $(cut -d' ' -f1-3 /proc/loadavg)"
BINS=("$@")
for round in $(seq 1 "$ROUNDS"); do
    # every other round in the reverse order, so a load that rises or
    # falls through the run favours no binary
    order=("${BINS[@]}")
    if (( round % 2 == 0 )); then
        order=()
        for (( i = ${#BINS[@]} - 1; i >= 0; i-- )); do order+=("${BINS[i]}"); done
    fi
    for bin in "${order[@]}"; do
        D=$WORK/r$round-$(basename "$bin")
        mkdir -p "$D/data" "$D/packs"
        ATTUNE__DATA_DIR=$D/data ATTUNE__PACKS_BASE_DIR=$D/packs ATTUNE__SERVER__PORT=$PORT \
            ATTUNE__ADMIN_PASSWORD=$PASSWORD "$bin" serve >>"$WORK/server.log" 2>&1 &
        SERVER_PID=$!
        for _ in $(seq 1 600); do
            curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
            sleep 0.05
        done
        TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/auth/login" \
            -H 'content-type: application/json' \
            -d "{\"login\":\"admin\",\"password\":\"$PASSWORD\"}" | jq -r .data.access_token)
        api POST /api/v1/packs '{"ref":"bench","label":"bench","version":"1.0.0"}' >/dev/null
        cp -r "$CORPUS/c1k/bench" "$D/packs/bench"
        t0=$(now_ns)
        n=$(api POST /api/v1/packs/bench/workflows/sync | jq .data.registered_count)
        cold=$(ms_since "$t0")
        t0=$(now_ns)
        u=$(api POST /api/v1/packs/bench/workflows/sync | jq .data.unchanged_count)
        resync=$(ms_since "$t0")
        read -r l_rps l_p99 < <(wrk_row "/api/v1/workflows?per_page=100")
        read -r o_rps o_p99 < <(wrk_row "/api/v1/workflows/bench.wf_0042")
        echo "round $round $(basename "$bin"): cold sync ${cold} ms ($n registered), re-sync ${resync} ms ($u unchanged), list100 ${l_rps} rps p99 ${l_p99}, one ${o_rps} rps p99 ${o_p99}, load $(cut -d' ' -f1 /proc/loadavg)"
        kill "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    done
done
