#!/usr/bin/env bash
# Mixed-traffic load on 127.0.0.1 against the release binary, bounded in time,
# with the server's RSS sampled every 5 s.
#
#   scripts/load.sh [DURATION_SECONDS]     (default 600; warm-up is the first 60 s)
#
# Traffic (wrk + Lua, 2 threads, 8 connections): reads of packs, workflows,
# runs, health and the OpenAPI document; validation of a YAML text; syncs
# of five packs (two from the corpus, three generated with 30 valid and
# 10 invalid workflows each); logins with the right password. Passes when
# wrk saw no socket error and no non-2xx response, and the highest RSS of
# the last minute is at most 10% above the highest RSS of the minute after
# warm-up (single samples swing with the syncs in flight; both are printed).
# Also samples the thread count. Writes its figures to target/load/summary.txt.
# Env: ATTUNE_BIN (default target/release/attune, built if missing),
#      CONNECTIONS (8), THREADS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-600}"
WARMUP=60
[ "$DURATION" -gt "$WARMUP" ] || WARMUP=$((DURATION / 3))
CONNECTIONS="${CONNECTIONS:-8}"
THREADS="${THREADS:-2}"
BIN="${ATTUNE_BIN:-target/release/attune}"
CORPUS="${ATTUNE_CORPUS:-tests/corpus/attune}"
OUT=target/load
PASSWORD="load-test-password-1"

command -v wrk >/dev/null 2>&1 || {
    command -v apt-get >/dev/null 2>&1 && { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
}
command -v wrk >/dev/null 2>&1 || { echo "wrk not found: install it (apt-get install wrk)" >&2; exit 1; }
[ -x "$BIN" ] || cargo build --release
[ -d "$CORPUS/packs" ] || { echo "corpus not found at $CORPUS: set ATTUNE_CORPUS" >&2; exit 1; }

rm -rf "$OUT" && mkdir -p "$OUT"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# Packs: two real ones and three generated.
mkdir -p "$WORK/packs"
cp -r "$CORPUS/packs/core" "$CORPUS/packs/test_pack" "$WORK/packs/"
for p in gen1 gen2 gen3; do
    mkdir -p "$WORK/packs/$p/workflows"
    for i in $(seq 1 30); do
        printf 'label: "Good %s"\ndescription: "generated"\nversion: "1.0.0"\nparameters:\n  who:\n    type: string\n    default: "world"\ntasks:\n  - name: start\n    action: core.echo\n    input:\n      message: "hello {{ parameters.who }}"\n    next:\n      - do: [finish]\n  - name: finish\n    action: core.noop\n' "$i" \
            > "$WORK/packs/$p/workflows/good_$i.yaml"
    done
    for i in $(seq 1 10); do
        cp "$CORPUS/examples/complete-workflow.yaml" "$WORK/packs/$p/workflows/complete_$i.yaml"
    done
done
PACKS="core test_pack gen1 gen2 gen3"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
ATTUNE__ADMIN_PASSWORD="$PASSWORD" RUST_LOG=warn "$BIN" serve --data-dir "$WORK/data" \
    --packs-dir "$WORK/packs" --host 127.0.0.1 --port "$PORT" 2>"$OUT/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/health" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "$BASE/health" >/dev/null

TOKEN="$(curl -fsS -X POST "$BASE/auth/login" -H 'Content-Type: application/json' \
    -d "{\"login\":\"admin\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])')"
for p in $PACKS; do
    code="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$BASE/api/v1/packs" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' -d "{\"ref\":\"$p\",\"label\":\"Pack $p\",\"version\":\"1.0.0\"}")"
    case "$code" in 201|409) ;; *) echo "creating pack $p answered $code" >&2; exit 1 ;; esac
    curl -fsS -o /dev/null -X POST "$BASE/api/v1/packs/$p/workflows/sync" -H "Authorization: Bearer $TOKEN"
done

VALIDATE_BODY="$(python3 -c 'import json,sys; print(json.dumps({"pack_ref":"gen1","name":"probe","yaml":open(sys.argv[1]).read()}))' \
    "$CORPUS/examples/complete-workflow.yaml")"
cat > "$OUT/mixed.lua" <<LUA
-- Weighted mix: 100 slots per cycle.
local token = "$TOKEN"
local packs = { "core", "test_pack", "gen1", "gen2", "gen3" }
local validate_body = [==[$VALIDATE_BODY]==]
local login_body = '{"login":"admin","password":"$PASSWORD"}'
local n = 0
local auth = { ["Authorization"] = "Bearer " .. token }
local json = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
request = function()
  n = n + 1
  local slot = n % 100
  local pack = packs[(math.floor(n / 100) % #packs) + 1]
  if slot < 20 then return wrk.format("GET", "/api/v1/packs?per_page=50", auth)
  elseif slot < 35 then return wrk.format("GET", "/api/v1/packs/" .. pack .. "/workflows", auth)
  elseif slot < 50 then return wrk.format("GET", "/api/v1/workflows?per_page=100&pack_ref=" .. pack, auth)
  elseif slot < 58 then return wrk.format("GET", "/api/v1/workflows/gen" .. ((n % 3) + 1) .. ".good_" .. ((n % 30) + 1), auth)
  elseif slot < 63 then return wrk.format("GET", "/api/v1/runs?per_page=20", auth)
  elseif slot < 68 then return wrk.format("GET", "/api/v1/packs/" .. pack, auth)
  elseif slot < 72 then return wrk.format("GET", "/health")
  elseif slot < 74 then return wrk.format("GET", "/api/openapi.json")
  elseif slot < 94 then return wrk.format("POST", "/api/v1/workflows/validate", json, validate_body)
  elseif slot < 98 then return wrk.format("POST", "/api/v1/packs/" .. pack .. "/workflows/sync", auth)
  else return wrk.format("POST", "/auth/login", { ["Content-Type"] = "application/json" }, login_body)
  end
end
LUA

# A probe of each request kind before the run, so a wrong path fails fast.
for path in "/api/v1/packs?per_page=50" "/api/v1/packs/gen1/workflows" "/api/v1/workflows?per_page=100&pack_ref=gen1" \
    "/api/v1/workflows/gen1.good_1" "/api/v1/workflows/gen3.good_30" \
    "/api/v1/runs?per_page=20" "/api/v1/packs/gen1"; do
    curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE$path" || { echo "probe GET $path failed" >&2; exit 1; }
done
curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data-binary "$VALIDATE_BODY" "$BASE/api/v1/workflows/validate" || { echo "probe validate failed" >&2; exit 1; }

rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
threads() { awk '/^Threads/ {print $2}' "/proc/$SERVER_PID/status"; }
echo "t_seconds,rss_kib,threads" > "$OUT/rss.csv"
(
    t=0
    while [ "$t" -le "$DURATION" ] && kill -0 "$SERVER_PID" 2>/dev/null; do
        echo "$t,$(rss),$(threads)" >> "$OUT/rss.csv"
        sleep 5
        t=$((t + 5))
    done
) &
SAMPLER=$!

echo "load: ${DURATION}s, $THREADS threads, $CONNECTIONS connections against $BASE (server pid $SERVER_PID)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s --latency -s "$OUT/mixed.lua" "$BASE" | tee "$OUT/wrk.txt"
wait "$SAMPLER" 2>/dev/null || true
kill -0 "$SERVER_PID" || { echo "server died during the load" >&2; exit 1; }
curl -fsS "$BASE/health" >/dev/null

python3 - "$OUT" "$WARMUP" <<'PY' | tee "$OUT/summary.txt"
import re, sys
out, warmup = sys.argv[1], int(sys.argv[2])
wrk = open(f"{out}/wrk.txt").read()
rows = [tuple(map(int, l.split(","))) for l in open(f"{out}/rss.csv").read().split()[1:] if l.count(",") == 2 and all(l.split(","))]
reqs = int(re.search(r"(\d+) requests in", wrk).group(1))
rate = re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1)
non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)) else 0
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", wrk)
sock_errors = sum(map(int, sock.groups())) if sock else 0
lat = {k: v for k, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", wrk, re.M)}
after_warmup = next(r for t, r, _ in rows if t >= warmup)
end = rows[-1][1]
peak = max(r for _, r, _ in rows)
threads_max = max(n for _, _, n in rows)
drift = (end - after_warmup) / after_warmup * 100
# RSS swings with the syncs in flight (mimalloc returns freed pages), so a
# single sample decides little: the pass rule compares the highest RSS of
# the minute after warm-up with that of the last minute.
first_win = [r for t, r, _ in rows if warmup <= t < warmup + 60]
last_t = rows[-1][0]
last_win = [r for t, r, _ in rows if t > last_t - 60]
win_a, win_b = max(first_win or [after_warmup]), max(last_win or [end])
win_drift = (win_b - win_a) / win_a * 100
print(f"requests={reqs} rate_per_s={rate} non_2xx={non2xx} socket_errors={sock_errors}")
print(f"latency p50={lat.get('50')} p90={lat.get('90')} p99={lat.get('99')}")
print(f"rss_kib after_warmup({warmup}s)={after_warmup} end={end} peak={peak} drift={drift:+.1f}%")
print(f"threads end={rows[-1][2]} max={threads_max}")
print(f"rss_kib max first minute after warm-up={win_a} max last minute={win_b} window_drift={win_drift:+.1f}%")
ok = non2xx == 0 and sock_errors == 0 and win_drift <= 10
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
