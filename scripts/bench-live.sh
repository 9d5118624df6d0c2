#!/usr/bin/env bash
# Benchmarks of issue 16 (watch mode, events, metrics) against the release
# binary on 127.0.0.1; bounded in time; prints one line per figure.
#
#   scripts/bench-live.sh            # builds release attune if missing
#
#   1. write → event latency: the server runs with --watch (debounce
#      300 ms); a client holds the event stream; 200 edits (one comment
#      appended to one workflow file, one at a time, each waiting for its
#      run_finished) in a pack of 10 and one of 1,000 workflows.
#   2. RSS of the server with no subscriber, then with 1,000 idle event
#      streams (sampled at 5, 30 and 55 s), then after they close.
#   3. GET /api/v1/packs/{ref} req/s (wrk -t2 -c32, 10 s) with metrics off
#      and on, alternating, 3 rounds each.
# Env: ATTUNE_BIN (target/release/attune), EDITS (200), ROUNDS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${ATTUNE_BIN:-target/release/attune}"
EDITS="${EDITS:-200}"
ROUNDS="${ROUNDS:-3}"
PASSWORD="bench-live-password-1"
[ -x "$BIN" ] || cargo build --release --bin attune
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
ulimit -n 8192

WORK="$(mktemp -d)"
# shellcheck source=lib/server.sh
source scripts/lib/server.sh
stop() { attune_stop; PID=""; }
trap 'stop; rm -rf "$WORK"' EXIT

mkdir -p "$WORK/packs"
scripts/gen-corpus "$WORK/gen10" --workflows 10 --name small >/dev/null
scripts/gen-corpus "$WORK/gen1000" --workflows 1000 --name big >/dev/null
cp -r "$WORK/gen10/small" "$WORK/gen1000/big" "$WORK/packs/"

start() { # start [extra env...]
    rm -rf "$WORK/data"
    attune_start "$WORK/server.log" env ATTUNE__ADMIN_PASSWORD="$PASSWORD" "$@" "$BIN" serve \
        --packs-dir "$WORK/packs" --data-dir "$WORK/data" --watch || exit 1
    PID=$ATTUNE_PID
    ADDR=$ATTUNE_ADDR
    TOKEN="$(attune_login "$PASSWORD")" || exit 1
    for p in small big; do
        curl -s -o /dev/null -X POST "http://$ADDR/api/v1/packs" -H "Authorization: Bearer $TOKEN" \
            -H 'Content-Type: application/json' -d "{\"ref\":\"$p\",\"label\":\"$p\",\"version\":\"1.0.0\"}"
    done
}
rss() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
start
for p in small big; do
    files=("$WORK/packs/$p/workflows/"*.yaml)
    f="${files[0]}"
    echo "latency $p ($(ls "$WORK/packs/$p/workflows" | wc -l) workflows): $(python3 scripts/lib/live_bench.py latency "$ADDR" "$TOKEN" "$p" "$f" "$EDITS")"
done

echo "rss_kib no_subscriber=$(rss)"
python3 scripts/lib/live_bench.py subscribers "$ADDR" "$TOKEN" 1000 60 >"$WORK/subs.log" 2>&1 &
SUBS=$!
for _ in $(seq 1 600); do grep -q '^open' "$WORK/subs.log" 2>/dev/null && break; sleep 0.2; done
grep '^open' "$WORK/subs.log" || { cat "$WORK/subs.log" >&2; exit 1; }
sleep 5; a=$(rss); sleep 25; b=$(rss); sleep 25; c=$(rss)
echo "rss_kib 1000_subscribers t5=$a t30=$b t55=$c"
wait "$SUBS" || true
sleep 2
echo "rss_kib after_close=$(rss)"
stop

for round in $(seq 1 "$ROUNDS"); do
    for m in false true; do
        start ATTUNE__METRICS__ENABLED="$m"
        wrk -t2 -c32 -d2s -H "Authorization: Bearer $TOKEN" "http://$ADDR/api/v1/packs/big" >/dev/null
        r="$(wrk -t2 -c32 -d10s -H "Authorization: Bearer $TOKEN" "http://$ADDR/api/v1/packs/big" | awk '/Requests\/sec/ {print $2}')"
        echo "round $round metrics=$m GET /api/v1/packs/{ref} req_s=$r"
        stop
    done
done
