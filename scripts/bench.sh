#!/usr/bin/env bash
# Runs every performance measurement of docs/PERFORMANCE.md against the
# release binary and prints one table (figure, value, target, verdict).
# Compare ratios within one run: the build box is 2 cores, shared.
#
# Usage: scripts/bench.sh [--skip-build]   (SCALE=1 adds the issue-18 scale section)
# Env:   WRK_SECONDS (default 20), ROUNDS (in-process validate rounds, 5),
#        KEEP=1 keeps the work directory, PORT (default 18480), BIN (the
#        server binary, default target/release/attune: compare two builds).
# Needs: curl, jq, wrk, /usr/bin/time.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# shellcheck source=lib/sync-loop.sh
source "$ROOT/scripts/lib/sync-loop.sh"
WRK_SECONDS=${WRK_SECONDS:-20}
ROUNDS=${ROUNDS:-5}
PORT=${PORT:-18480}
PASSWORD=bench-password-1
BIN=${BIN:-$ROOT/target/release/attune}

if [[ "${1:-}" != "--skip-build" ]]; then
    cargo build --release --bin attune --example validate_throughput
    cargo build --example gen_corpus
fi
GEN=$ROOT/target/debug/examples/gen_corpus
THROUGHPUT=$ROOT/target/release/examples/validate_throughput
for tool in curl jq wrk /usr/bin/time "$BIN" "$GEN" "$THROUGHPUT"; do
    command -v "$tool" >/dev/null || { echo "bench: missing $tool" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/attune-bench.XXXXXX)
SERVER_PID=
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    if [[ -n "${TIME_PID:-}" ]]; then kill "$TIME_PID" 2>/dev/null || true; fi
    if [[ -z "${KEEP:-}" ]]; then rm -rf "$WORK"; else echo "work dir kept: $WORK" >&2; fi
}
trap cleanup EXIT

ROWS=()
row() { ROWS+=("$1|$2|$3|$4"); printf '  %-58s %-22s %-16s %s\n' "$1" "$2" "$3" "$4" >&2; }
now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    ok = (op == ">=") ? (v >= t) : (v < t); print (ok ? "met" : "MISSED") }'; }

echo "== machine" >&2
MACHINE="$(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
echo "  $MACHINE" >&2

echo "== corpora (deterministic, crates/attune-workflow/src/generator.rs)" >&2
"$GEN" "$WORK/c1k" --packs 1 --workflows 1000 >&2
"$GEN" "$WORK/c1k_b" --packs 1 --workflows 1000 --name bench2 >&2
"$GEN" "$WORK/c10k" --packs 1 --workflows 10000 >&2
"$GEN" "$WORK/c100x100" --packs 100 --workflows 100 >&2
"$GEN" "$WORK/load_a" --packs 1 --workflows 1000 --seed 7 --name load >&2
"$GEN" "$WORK/load_b" --packs 1 --workflows 1000 --seed 8 --name load >&2

# ---------------------------------------------------------------- server
# start_server DATA_DIR PACKS_DIR [time-v-output]
start_server() {
    local data=$1 packs=$2 timev=${3:-}
    mkdir -p "$data" "$packs"
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/health"; then
        echo "bench: port $PORT is already in use; set PORT" >&2
        exit 1
    fi
    local -a cmd=("$BIN" serve)
    if [[ -n "$timev" ]]; then cmd=(/usr/bin/time -v -o "$timev" "${cmd[@]}"); fi
    ATTUNE__DATA_DIR=$data ATTUNE__PACKS_BASE_DIR=$packs ATTUNE__SERVER__PORT=$PORT \
        ATTUNE__ADMIN_PASSWORD=$PASSWORD "${cmd[@]}" >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    TIME_PID=
    if [[ -n "$timev" ]]; then # the server is the child of /usr/bin/time
        TIME_PID=$SERVER_PID
        local j
        for j in $(seq 1 100); do
            SERVER_PID=$(pgrep -P "$TIME_PID" || true)
            [[ -n "$SERVER_PID" ]] && break
            sleep 0.02
        done
    fi
    local i
    for i in $(seq 1 600); do
        curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "bench: server did not start (see $WORK/server.log)" >&2
    exit 1
}
stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        HWM_KB=$(awk '/VmHWM/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        if [[ -n "${TIME_PID:-}" ]]; then wait "$TIME_PID" 2>/dev/null || true; TIME_PID=; fi
        while kill -0 "$SERVER_PID" 2>/dev/null; do sleep 0.02; done
        SERVER_PID=
    fi
}
login() {
    TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/auth/login" -H 'content-type: application/json' \
        -d "{\"login\":\"admin\",\"password\":\"$PASSWORD\"}" | jq -r .data.access_token)
}
api() { # METHOD PATH [BODY] -> body on stdout
    local -a body=()
    if [[ -n "${3:-}" ]]; then body=(-d "$3"); fi
    curl -sf -X "$1" "http://127.0.0.1:$PORT$2" -H "Authorization: Bearer $TOKEN" \
        -H 'content-type: application/json' "${body[@]}"
}
create_pack() { api POST /api/v1/packs "{\"ref\":\"$1\",\"label\":\"$1\",\"version\":\"1.0.0\"}" >/dev/null; }
# timed POST; prints "wall_ms server_ms"; the body is left in $WORK/last.json
timed() {
    local t0
    t0=$(now_ns)
    api POST "$1" >"$WORK/last.json"
    echo "$(ms_since "$t0") $(jq -r '.data.duration_ms // 0' "$WORK/last.json")"
}

# ---------------------------------------------------------------- validate
echo "== validate" >&2
TP=$("$THROUGHPUT" "$WORK/c1k/bench" "$ROUNDS")
echo "  $TP" >&2
kv() { tr ' ' '\n' <<<"$TP" | awk -F= -v k="$1" '$1 == k { print $2 }'; }
FLOOR_MIBS=$(kv floor_mibs); ATT_MIBS=$(kv attune_mibs); ATT_S=$(kv check_s)
row "floor: serde_yaml_ng -> serde_json::Value, 1 thread" "$FLOOR_MIBS MiB/s" "reference" "examples/validate_throughput"
row "attune YAML layer alone (spanned tree), 1 thread" "$(kv yaml_s) s" "reported" "$(kv yaml_ratio)x floor"
row "attune check (all rules, diagnostics only: attune validate), 1 thread" "$(kv check_mibs) MiB/s" ">= 90% of floor" "$(kv check_ratio)x floor: $(verdict "$(kv check_ratio)" '>=' 0.9)"
row "attune validate (all rules + normalized definition: sync), 1 thread" "$ATT_MIBS MiB/s ($(kv attune_files_per_s) wf/s)" ">= 90% of floor" "$(kv ratio)x floor: $(verdict "$(kv ratio)" '>=' 0.9)"

cli_ms() { # threads
    local t0; t0=$(now_ns)
    RAYON_NUM_THREADS=$1 "$BIN" validate "$WORK/c1k/bench" --format json >/dev/null || true
    ms_since "$t0"
}
CLI1=$(cli_ms 1); CLI2=$(cli_ms 2); CLI1b=$(cli_ms 1); CLI2b=$(cli_ms 2)
CLI1=$(( CLI1 < CLI1b ? CLI1 : CLI1b )); CLI2=$(( CLI2 < CLI2b ? CLI2 : CLI2b ))
SPEEDUP=$(ratio "$CLI1" "$CLI2")
row "attune validate CLI, 1,000 wf, RAYON_NUM_THREADS=1" "${CLI1} ms" "reference" "best of 2"
row "attune validate CLI, 1,000 wf, 2 threads" "${CLI2} ms" ">= 1.7x 1 thread" "${SPEEDUP}x: $(verdict "$SPEEDUP" '>=' 1.7)"
INPROC_MS=$(awk -v s="$ATT_S" 'BEGIN { printf "%d", s * 1000 }')
CLI_VS_INPROC=$(ratio "$INPROC_MS" "$CLI2")
row "attune validate CLI 2 threads vs in-process 1 thread" "${CLI2} vs ${INPROC_MS} ms" ">= 1.7x" "${CLI_VS_INPROC}x: $(verdict "$CLI_VS_INPROC" '>=' 1.7)"

# ---------------------------------------------------------------- sync 1k
echo "== sync: 1,000 workflows, one pack" >&2
D=$WORK/s1k; start_server "$D/data" "$D/packs"; login
create_pack bench; create_pack bench2
mv "$WORK/c1k/bench" "$D/packs/bench"; mv "$WORK/c1k_b/bench2" "$D/packs/bench2"
read -r V_WALL V_SRV < <(timed /api/v1/packs/bench/workflows/validate)
read -r V2_WALL V2_SRV < <(timed /api/v1/packs/bench/workflows/validate)
V_WALL=$(( V_WALL < V2_WALL ? V_WALL : V2_WALL ))
EP_VS_INPROC=$(ratio "$INPROC_MS" "$V_WALL")
row "validate endpoint, 1,000 wf (wall, best of 2)" "${V_WALL} ms" ">= 1.7x 1 thread" "${EP_VS_INPROC}x in-process: $(verdict "$EP_VS_INPROC" '>=' 1.7)"
SIZE0=$(stat -c %s "$D/data/attune.redb")
read -r C_WALL C_SRV < <(timed /api/v1/packs/bench/workflows/sync)
SIZE1=$(stat -c %s "$D/data/attune.redb")
read -r R_WALL R_SRV < <(timed /api/v1/packs/bench/workflows/sync)
SIZE2=$(stat -c %s "$D/data/attune.redb")
UNCH=$(jq -r .data.unchanged_count "$WORK/last.json")
read -r R2_WALL R2_SRV < <(timed /api/v1/packs/bench/workflows/sync)
R_WALL=$(( R_WALL < R2_WALL ? R_WALL : R2_WALL ))
# A second cold sync: the same 1,000 files as pack bench2 (same seed, so the
# same work), also never synced; best of 2, as for validate.
read -r C2_WALL C2_SRV < <(timed /api/v1/packs/bench2/workflows/sync)
C_WALL=$(( C_WALL < C2_WALL ? C_WALL : C2_WALL ))
C_VS_V=$(ratio "$C_WALL" "$V_WALL")
row "cold sync, 1,000 wf (wall, best of 2 packs)" "${C_WALL} ms" "< 2x validate" "${C_VS_V}x validate: $(verdict "$C_VS_V" '<' 2)"
R_SPEED=$(ratio "$C_WALL" "$R_WALL")
row "re-sync unchanged, 1,000 wf ($UNCH unchanged, best of 2)" "${R_WALL} ms" ">= 5x faster" "${R_SPEED}x: $(verdict "$R_SPEED" '>=' 5)"
row "DB file: before / after cold / after re-sync" "$SIZE0 / $SIZE1 / $SIZE2 B" "re-sync: run record only" "+$((SIZE2 - SIZE1)) B"
stop_server

# ---------------------------------------------------------------- sync 10k
echo "== sync: 10,000 workflows, one pack (peak RSS under /usr/bin/time -v)" >&2
D=$WORK/s10k; start_server "$D/data" "$D/packs" "$WORK/time10k.txt"; login
create_pack bench
mv "$WORK/c10k/bench" "$D/packs/bench"
read -r V_WALL V_SRV < <(timed /api/v1/packs/bench/workflows/validate)
read -r C_WALL C_SRV < <(timed /api/v1/packs/bench/workflows/sync)
SIZE1=$(stat -c %s "$D/data/attune.redb")
hwm_mb() { awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0; }
# High-water marks of the sync steps alone, before wrk adds its own load.
COLD_HWM_MB=$(hwm_mb)
read -r R_WALL R_SRV < <(timed /api/v1/packs/bench/workflows/sync)
SIZE2=$(stat -c %s "$D/data/attune.redb")
RESYNC_HWM_MB=$(hwm_mb)
C_VS_V=$(ratio "$C_WALL" "$V_WALL")
row "validate endpoint, 10,000 wf (wall)" "${V_WALL} ms" "reference" ""
row "cold sync, 10,000 wf, fresh DB (wall)" "${C_WALL} ms" "< 2x validate" "${C_VS_V}x validate: $(verdict "$C_VS_V" '<' 2)"
R_SPEED=$(ratio "$C_WALL" "$R_WALL")
row "re-sync unchanged, 10,000 wf" "${R_WALL} ms" ">= 5x faster" "${R_SPEED}x: $(verdict "$R_SPEED" '>=' 5)"
row "DB file after cold sync / after re-sync, 10,000 wf" "$SIZE1 / $SIZE2 B" "re-sync: run record only" "+$((SIZE2 - SIZE1)) B"
row "peak RSS (VmHWM) through validate + cold sync, 10,000 wf" "${COLD_HWM_MB} MiB (${RESYNC_HWM_MB} MiB after re-sync)" "< 150 MiB" "$(verdict "$COLD_HWM_MB" '<' 150)"

# ---------------------------------------------------------------- wrk
echo "== API under wrk (2 threads, 64 connections, ${WRK_SECONDS}s), 10,000 stored" >&2
AUTH="Authorization: Bearer $TOKEN"
run_wrk() { # name path [auth]
    local out
    if [[ -n "${3:-}" ]]; then
        out=$(wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency -H "$AUTH" "http://127.0.0.1:$PORT$2")
    else
        out=$(wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency "http://127.0.0.1:$PORT$2")
    fi
    echo "$out" >"$WORK/wrk-$1.txt"
    local rps p99 non2xx sock
    rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    non2xx=$(awk '/Non-2xx/ { print $5 }' <<<"$out"); non2xx=${non2xx:-0}
    sock=$(awk '/Socket errors/ { s = 0; for (i = 4; i <= NF; i += 2) { gsub(",", "", $i); s += $i } print s }' <<<"$out"); sock=${sock:-0}
    echo "$rps $p99 $non2xx $sock"
}
to_ms() { awk -v x="$1" 'BEGIN { v = x + 0; if (x ~ /us$/) v /= 1000; else if (x ~ /ms$/) v += 0; else if (x ~ /s$/) v *= 1000; printf "%.2f", v }'; }
read -r H_RPS H_P99 H_E H_S < <(run_wrk health /health)
read -r W_RPS W_P99 W_E W_S < <(run_wrk one /api/v1/workflows/bench.wf_0042 auth)
read -r L_RPS L_P99 L_E L_S < <(run_wrk list "/api/v1/workflows?per_page=100" auth)
row "GET /health" "$H_RPS rps, p99 $H_P99" "reference" "errors $H_E non-2xx, $H_S socket"
# Where an authenticated GET spends its time, by subtraction (same run):
# auth alone (GET /auth/me, small body), auth + index miss (404, small body).
read -r M_RPS M_P99 _ _ < <(run_wrk me /auth/me auth)
read -r N_RPS N_P99 _ _ < <(run_wrk miss /api/v1/workflows/bench.no_such_workflow auth)
row "GET /auth/me (auth only, small body)" "$M_RPS rps, p99 $M_P99" "breakdown" "$(ratio "$M_RPS" "$H_RPS")x /health"
row "GET /api/v1/workflows/{unknown} (auth + index miss, 404)" "$N_RPS rps, p99 $N_P99" "breakdown" "$(ratio "$N_RPS" "$H_RPS")x /health"
ONE_BYTES=$(curl -s -H "$AUTH" "http://127.0.0.1:$PORT/api/v1/workflows/bench.wf_0042" | wc -c)
LIST_BYTES=$(curl -s -H "$AUTH" "http://127.0.0.1:$PORT/api/v1/workflows?per_page=100" | wc -c)
W_R=$(ratio "$W_RPS" "$H_RPS")
row "GET /api/v1/workflows/{ref} (auth, $ONE_BYTES B body)" "$W_RPS rps, p99 $W_P99" ">= 50% of /health" "${W_R}x: $(verdict "$W_R" '>=' 0.5), errors $W_E/$W_S"
L_R=$(ratio "$L_RPS" "$H_RPS")
row "GET /api/v1/workflows?per_page=100 (auth, $LIST_BYTES B body)" "$L_RPS rps, p99 $L_P99" "reported" "${L_R}x /health, errors $L_E/$L_S"

echo "== the same GET while a 1,000-workflow sync runs every 3 s" >&2
# Two versions of pack `load` (1,000 workflows each, different seeds): each
# sync swaps the folder to the other version, so every sync rewrites 1,000.
create_pack load
SYNCS=$WORK/syncs.txt; : >"$SYNCS"
sync_loop "$D/packs" "$WORK/load_a" "$WORK/load_b" "$SYNCS" &
LOADER=$!
read -r S_RPS S_P99 S_E S_S < <(run_wrk one-under-sync /api/v1/workflows/bench.wf_0042 auth)
kill "$LOADER" 2>/dev/null || true; wait "$LOADER" 2>/dev/null || true
NSYNC=$(wc -l <"$SYNCS")
P99_R=$(ratio "$(to_ms "$S_P99")" "$(to_ms "$W_P99")")
row "GET /api/v1/workflows/{ref} during syncs ($NSYNC syncs)" "$S_RPS rps, p99 $S_P99" "p99 <= 3x idle" "${P99_R}x: $(verdict "$P99_R" '<' 3.0001), errors $S_E/$S_S"
stop_server
RSS_KB=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$WORK/time10k.txt")
RSS_MB=$(( ${RSS_KB:-0} / 1024 ))
row "peak RSS of the server, whole 10,000 section (syncs + all wrk runs)" "${RSS_MB} MiB (VmHWM $(( ${HWM_KB:-0} / 1024 )) MiB)" "< 150 MiB" "$(verdict "$RSS_MB" '<' 150)"

# ---------------------------------------------------------------- startup
echo "== startup to first /health with 10,000 stored" >&2
ST=()
for _ in 1 2 3 4 5; do
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/health"; then echo "bench: port $PORT busy" >&2; exit 1; fi
    t0=$(now_ns)
    ATTUNE__DATA_DIR=$D/data ATTUNE__PACKS_BASE_DIR=$D/packs ATTUNE__SERVER__PORT=$PORT \
        "$BIN" serve >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    n=0
    until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do
        n=$((n + 1)); if ((n > 3000)); then echo "bench: server did not start" >&2; exit 1; fi
    done
    ST+=("$(ms_since "$t0")")
    stop_server
done
ST_MED=$(printf '%s\n' "${ST[@]}" | sort -n | sed -n 3p)
row "startup to first /health, 10,000 stored (median of 5)" "${ST_MED} ms (${ST[*]})" "< 300 ms" "$(verdict "$ST_MED" '<' 300)"

# ---------------------------------------------------------------- 100 x 100
echo "== sync: 100 packs x 100 workflows" >&2
D=$WORK/s100; start_server "$D/data" "$D/packs"; login
for p in $(seq -f 'p%03g' 0 99); do create_pack "$p"; done
mv "$WORK/c100x100/"* "$D/packs/"
# One curl for the 100 requests of each round (one kept-alive connection,
# as a script syncing many packs would use), so the figures are the
# server's, not 100 process start-ups.
each_pack() { # ACTION -> ms for POST /api/v1/packs/pNNN/workflows/ACTION, all 100
    local -a urls=(); local p t0
    for p in $(seq -f 'p%03g' 0 99); do urls+=("http://127.0.0.1:$PORT/api/v1/packs/$p/workflows/$1"); done
    t0=$(now_ns)
    curl -sf -X POST -H "Authorization: Bearer $TOKEN" "${urls[@]}" >/dev/null
    ms_since "$t0"
}
V_MS=$(each_pack validate); C_MS=$(each_pack sync); R_MS=$(each_pack sync)
stop_server
C_VS_V=$(ratio "$C_MS" "$V_MS"); R_SPEED=$(ratio "$C_MS" "$R_MS")
row "validate 100 packs x 100 (100 requests)" "${V_MS} ms" "reference" ""
row "cold sync 100 packs x 100 (100 requests)" "${C_MS} ms" "< 2x validate" "${C_VS_V}x: $(verdict "$C_VS_V" '<' 2)"
row "re-sync unchanged 100 packs x 100" "${R_MS} ms" ">= 5x faster" "${R_SPEED}x: $(verdict "$R_SPEED" '>=' 5)"

SIZE=$(stat -c %s "$BIN")
row "release binary size (lto, strip)" "$((SIZE / 1024)) KiB ($SIZE B)" "reported" ""

# ---------------------------------------------------------------- table
echo
echo "attune benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $MACHINE"
echo
echo "| figure | value | target | result |"
echo "|---|---|---|---|"
for r in "${ROWS[@]}"; do
    IFS='|' read -r a b c d <<<"$r"
    echo "| $a | $b | $c | $d |"
done

# ---------------------------------------------------------------- scale (issue 18)
# SCALE=1: the cost-versus-size table (1,000 / 10,000 / 100,000 workflows)
# and the validate flood, each from its own script (fresh servers).
if [[ "${SCALE:-0}" == 1 ]]; then
    echo
    echo "== scale: 1 pack x 1,000 / 10,000, 100 packs x 1,000 (scripts/bench-scale.sh)"
    GEN=$GEN WRK_SECONDS=$WRK_SECONDS SIZES="1000 10000" "$ROOT/scripts/bench-scale.sh" "$BIN"
    GEN=$GEN WRK_SECONDS=$WRK_SECONDS SIZES="100000" LAYOUT=packs "$ROOT/scripts/bench-scale.sh" "$BIN"
    echo
    echo "== validate flood (scripts/bench-flood.sh)"
    "$ROOT/scripts/bench-flood.sh" "$BIN" unbounded budget
fi
