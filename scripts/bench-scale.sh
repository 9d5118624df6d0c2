#!/usr/bin/env bash
# The scale section of issue 18: cost versus size at 1,000 / 10,000 /
# 100,000 workflows (1 pack × N; LAYOUT=packs gives 100 packs × N/100), one
# fresh server per size, every row of a size measured in one run:
#   cold sync and unchanged re-sync (server-side duration_ms and round trip),
#   startup to the first /health 200 with N stored (a restart),
#   peak RSS (VmHWM) after the syncs and at the end,
#   GET /api/v1/workflows?tags=WORD&per_page=100 under wrk (p50, p99, rps),
#   page 1,000 by cursor vs page 1 (per_page=10, wrk p99 each) and page 1,000
#   by number, for sizes with 1,000 pages,
#   the online backup (GET /api/v1/admin/backup to a file) and the offline
#   restore of that file (`attune restore`, server stopped), with sizes.
#
# Usage: scripts/bench-scale.sh [BIN]
# Env:   SIZES ("1000 10000 100000"), LAYOUT (pack|packs), WRK_SECONDS (10),
#        PORT (18690), GEN (gen_corpus binary), CORPUS (cache dir, reused),
#        CURSORS=0 to compare with a build that has no cursors.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/target/release/attune}
GEN=${GEN:-$ROOT/target/debug/examples/gen_corpus}
SIZES=${SIZES:-1000 10000 100000}
LAYOUT=${LAYOUT:-pack}
WRK_SECONDS=${WRK_SECONDS:-10}
PORT=${PORT:-18690}
CORPUS=${CORPUS:-/tmp/attune-scale-corpus}
PASSWORD=bench-password-1
CURSORS=${CURSORS:-1} # 0: skip the cursor rows (a build without cursors)
for tool in curl jq wrk "$BIN" "$GEN"; do
    command -v "$tool" >/dev/null || { echo "bench-scale: missing $tool (build: cargo build --example gen_corpus)" >&2; exit 2; }
done
WORK=$(mktemp -d /tmp/attune-scale.XXXXXX)
SERVER_PID=
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }
hwm() { awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$SERVER_PID/status"; }

start_server() { # DIR -> sets SERVER_PID and STARTUP_MS (to the first /health 200)
    local t0
    t0=$(now_ns)
    ATTUNE__DATA_DIR=$1/data ATTUNE__PACKS_BASE_DIR=$1/packs ATTUNE__SERVER__PORT=$PORT \
        ATTUNE__ADMIN_PASSWORD=$PASSWORD "$BIN" serve >>"$1/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 6000); do
        curl -sf -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null && break
        sleep 0.005
    done
    STARTUP_MS=$(ms_since "$t0")
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }
login() {
    TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/auth/login" -H 'content-type: application/json' \
        -d "{\"login\":\"admin\",\"password\":\"$PASSWORD\"}" | jq -r .data.access_token)
}
api() {
    local -a body=()
    if [[ -n "${3:-}" ]]; then body=(-d "$3"); fi
    curl -sf -X "$1" "http://127.0.0.1:$PORT$2" -H "Authorization: Bearer $TOKEN" \
        -H 'content-type: application/json' "${body[@]}"
}
sync_of() { # PACK -> the sync's JSON report. A sync longer than the 60 s
    # request deadline answers 408 but runs to its end: then wait for its run.
    local before reply
    before=$(api GET "/api/v1/runs?pack_ref=$1&per_page=1" | jq '.meta.total')
    if reply=$(api POST "/api/v1/packs/$1/workflows/sync"); then
        echo "$reply"
        return
    fi
    echo "bench-scale: the sync of $1 outlived its request; waiting for its run" >&2
    local runs
    for _ in $(seq 1 3600); do
        runs=$(api GET "/api/v1/runs?pack_ref=$1&per_page=1")
        if [[ $(jq '.meta.total' <<<"$runs") -gt $before ]]; then
            jq '.data[0] | {duration_ms, unchanged_count: .counts.unchanged}' <<<"$runs"
            return
        fi
        sleep 1
    done
    echo "bench-scale: the sync of $1 never finished" >&2
    exit 1
}
wrk_of() { # PATH -> "p50 p99 rps non2xx"
    local out p50 p99 rps bad
    out=$(wrk -t2 -c16 -d"${WRK_SECONDS}s" --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$1")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    bad=$(awk '/Non-2xx/ { print $5 }' <<<"$out")
    echo "$p50 $p99 $rps ${bad:-0}"
}

echo "binary: $BIN"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| workflows | layout | cold sync (server / round trip) | unchanged re-sync | startup to /health | VmHWM after syncs | tags=x&per_page=100 p50 / p99 / rps | page 1 by cursor p99 | page 1,000 by cursor p99 | page 1,000 by number p99 | VmHWM at end | online backup | offline restore |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for N in $SIZES; do
    if [[ $LAYOUT == packs ]]; then
        NP=100
        NW=$(( N / 100 ))
    else
        NP=1
        NW=$N
    fi
    C=$CORPUS/c${NP}x${NW}
    if [[ ! -d $C ]]; then
        "$GEN" "$C" --packs "$NP" --workflows "$NW" >&2
    fi
    D=$WORK/s$N
    mkdir -p "$D/data" "$D/packs"
    start_server "$D"
    login
    mapfile -t PACKS < <(ls "$C")
    for p in "${PACKS[@]}"; do
        api POST /api/v1/packs "{\"ref\":\"$p\",\"label\":\"$p\",\"version\":\"1.0.0\"}" >/dev/null
        cp -r "$C/$p" "$D/packs/$p"
    done
    t0=$(now_ns); srv=0
    for p in "${PACKS[@]}"; do
        ms=$(sync_of "$p" | jq '.data.duration_ms // .duration_ms')
        srv=$(( srv + ms ))
    done
    cold="$srv ms / $(ms_since "$t0") ms"
    t0=$(now_ns); srv=0; unchanged=0
    for p in "${PACKS[@]}"; do
        r=$(sync_of "$p")
        srv=$(( srv + $(jq '.data.duration_ms // .duration_ms' <<<"$r") ))
        unchanged=$(( unchanged + $(jq '.data.unchanged_count // .unchanged_count' <<<"$r") ))
    done
    resync="$srv ms / $(ms_since "$t0") ms ($unchanged unchanged)"
    total=$(api GET "/api/v1/workflows?per_page=1" | jq .meta.total)
    [[ $total == "$N" ]] || echo "bench-scale: expected $N workflows, found $total" >&2
    hwm_sync=$(hwm)
    stop_server
    start_server "$D"
    startup=$STARTUP_MS
    login
    # the tag of the first workflow: one of 20 words, ~5% of N
    word=$(api GET "/api/v1/workflows?per_page=1" | jq -r '.data[0].tags[2]')
    read -r tp50 tp99 trps tbad < <(wrk_of "/api/v1/workflows?tags=$word&per_page=100")
    matched=$(api GET "/api/v1/workflows?tags=$word&per_page=1" | jq .meta.total)
    c1="n/a"; c1000="n/a"; o1000="n/a"
    if (( N >= 10000 && CURSORS == 1 )); then
        read -r _ c1 _ _ < <(wrk_of "/api/v1/workflows?per_page=10")
        cursor=""
        for _ in $(seq 1 999); do
            cursor=$(api GET "/api/v1/workflows?per_page=10${cursor:+&cursor=$cursor}" | jq -r .meta.next_cursor)
        done
        page=$(api GET "/api/v1/workflows?per_page=10&cursor=$cursor" | jq .meta.page)
        [[ $page == 1000 ]] || echo "bench-scale: cursor walk reached page $page" >&2
        read -r _ c1000 _ _ < <(wrk_of "/api/v1/workflows?per_page=10&cursor=$cursor")
        read -r _ o1000 _ _ < <(wrk_of "/api/v1/workflows?per_page=10&page=1000")
    fi
    t0=$(now_ns)
    curl -sf -o "$D/backup.redb" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/admin/backup"
    backup="$(ms_since "$t0") ms, $(( $(stat -c %s "$D/backup.redb") / 1048576 )) MiB"
    end_hwm=$(hwm)
    stop_server
    t0=$(now_ns)
    ATTUNE__DATA_DIR=$D/data ATTUNE__PACKS_BASE_DIR=$D/packs "$BIN" restore "$D/backup.redb" >"$D/restore.log" 2>&1 \
        || { echo "bench-scale: restore failed: $(cat "$D/restore.log")" >&2; exit 1; }
    restore="$(ms_since "$t0") ms"
    echo "| $N | $NP × $NW | $cold | $resync | $startup ms | $hwm_sync MiB | $tp50 / $tp99 / $trps rps ($matched match, $tbad non-2xx) | $c1 | $c1000 | $o1000 | $end_hwm MiB | $backup | $restore |"
    rm -rf "$D"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
