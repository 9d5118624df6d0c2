#!/usr/bin/env bash
# Disk full during a sync: the data dir is a small tmpfs (needs root and
# mount privileges), the packs folder is elsewhere. A first pack is synced
# while there is room; then packs with large workflow files are synced until
# the database cannot grow. Expected: the failing sync answers 500
# INSUFFICIENT_STORAGE with a message naming the full disk (never hangs),
# the server keeps answering reads and logins, the first pack's workflows
# are intact, and /health says whether the database accepts writes. Then
# the tmpfs is grown in place (remount) and, WITHOUT a restart, /health
# turns ok (the server reopens the database file itself), a new sync
# succeeds, the earlier packs are intact, and the log shows one reopen.
# Last, a restart on the same file opens it with everything.
#
#   sudo scripts/disk-full.sh [SIZE]     (default 3m)
# Env: ATTUNE_BIN (default target/debug/attune, built first), RUST_LOG
# (the server's, default warn). Run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-3m}"
BIN="${ATTUNE_BIN:-target/debug/attune}"
CORPUS="${ATTUNE_CORPUS:-tests/corpus/attune}"
PASSWORD="disk-full-password-1"
# Without ATTUNE_BIN, (re)build the debug binary: a stale one tests old code.
[ -n "${ATTUNE_BIN:-}" ] || cargo build -q
[ "$(id -u)" = 0 ] || { echo "disk-full.sh needs root (it mounts a tmpfs)" >&2; exit 2; }

WORK="$(mktemp -d)"
DATA="$WORK/data"
mkdir -p "$DATA" "$WORK/packs"
mount -t tmpfs -o "size=$SIZE" tmpfs "$DATA" || { echo "cannot mount a tmpfs here (no mount privileges?)" >&2; exit 2; }
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    umount "$DATA" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

start() {
    local data="$1"
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    BASE="http://127.0.0.1:$PORT"
    ATTUNE__ADMIN_PASSWORD="$PASSWORD" RUST_LOG="${RUST_LOG:-warn}" "$BIN" serve --data-dir "$data" \
        --packs-dir "$WORK/packs" --host 127.0.0.1 --port "$PORT" 2>>"$WORK/server.log" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do curl -fsS "$BASE/health" >/dev/null 2>&1 && break; sleep 0.2; done
    curl -fsS "$BASE/health" >/dev/null
}
login() {
    curl -fsS -X POST "$BASE/auth/login" -H 'Content-Type: application/json' \
        -d "{\"login\":\"admin\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])'
}
count() {
    curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/packs/$1/workflows?per_page=1" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["meta"]["total"])'
}
make_pack() {
    local pack="$1" n="$2" pad="$3"
    mkdir -p "$WORK/packs/$pack/workflows"
    for i in $(seq 1 "$n"); do
        { printf 'label: "W %s"\nversion: "1.0.0"\ntasks:\n  - name: start\n    action: core.echo\n' "$i"; printf '# %s\n' "$(head -c "$pad" /dev/zero | tr '\0' 'x')"; } \
            > "$WORK/packs/$pack/workflows/wf_$i.yaml"
    done
    curl -fsS -o /dev/null -X POST "$BASE/api/v1/packs" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' -d "{\"ref\":\"$pack\",\"label\":\"$pack\",\"version\":\"1.0.0\"}"
}

start "$DATA"
TOKEN="$(login)"
make_pack first 10 100
code="$(curl -sS -o "$WORK/first.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/packs/first/workflows/sync")"
[ "$code" = 200 ] || { echo "first sync answered $code: $(cat "$WORK/first.json")" >&2; exit 1; }
FIRST="$(count first)"
echo "first pack synced: $FIRST workflows; tmpfs $(df -h --output=used,avail "$DATA" | tail -1)"

failed=""
for round in $(seq 1 30); do
    make_pack "big$round" 40 20000
    code="$(curl -sS -m 120 -o "$WORK/big.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/packs/big$round/workflows/sync" || echo "curl-failed")"
    echo "round $round: sync answered $code; tmpfs $(df -h --output=used,avail "$DATA" | tail -1)"
    if [ "$code" != 200 ]; then
        failed="$code"
        echo "  body: $(head -c 300 "$WORK/big.json")"
        break
    fi
done
[ -n "$failed" ] || { echo "the tmpfs never filled up: use a smaller SIZE" >&2; exit 1; }
[ "$failed" = 500 ] || { echo "a sync on a full disk should answer 500, got $failed: $(cat "$WORK/big.json")" >&2; exit 1; }
grep -q '"code":"INSUFFICIENT_STORAGE"' "$WORK/big.json" || { echo "500 without code INSUFFICIENT_STORAGE" >&2; exit 1; }
grep -q 'no space left on device; free disk space in the data directory' "$WORK/big.json" || { echo "500 without the disk-full message" >&2; exit 1; }
FAILED_PACK="big$round"

# Still serving: reads, login, and the first pack is intact. Health answers
# (503 while the database refuses writes; 200 if there was still room to
# reopen it, the failing write being larger than what was left).
hcode="$(curl -sS -o "$WORK/health.json" -w '%{http_code}' "$BASE/health")"
echo "health while full: $hcode $(cat "$WORK/health.json")"
case "$hcode" in 200|503) ;; *) echo "health answered $hcode after disk full" >&2; exit 1 ;; esac
TOKEN="$(login)" || { echo "login fails after disk full" >&2; exit 1; }
AFTER="$(count first)"
[ "$AFTER" = "$FIRST" ] || { echo "first pack: $FIRST workflows before, $AFTER after" >&2; exit 1; }
echo "after disk full: login ok, first pack still $AFTER workflows"
grep -q "panicked" "$WORK/server.log" && { echo "panic in the server log" >&2; exit 1; }

# Free space in place (grow the live tmpfs) and recover WITHOUT a restart.
mount -o remount,size=20m "$DATA"
echo "tmpfs grown in place: $(df -h --output=used,avail "$DATA" | tail -1)"
hcode="$(curl -sS -o "$WORK/health.json" -w '%{http_code}' "$BASE/health")"
[ "$hcode" = 200 ] || { echo "health after freeing space: $hcode $(cat "$WORK/health.json")" >&2; grep -E "WARN|ERROR|handle" "$WORK/server.log" | tail -8 >&2; exit 1; }
grep -q '"database":"ok"' "$WORK/health.json" || { echo "health without database ok: $(cat "$WORK/health.json")" >&2; exit 1; }
echo "health after freeing space: $hcode $(cat "$WORK/health.json")"
code="$(curl -sS -m 120 -o "$WORK/again.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/packs/$FAILED_PACK/workflows/sync")"
[ "$code" = 200 ] || { echo "sync after freeing space answered $code: $(head -c 300 "$WORK/again.json")" >&2; exit 1; }
RETRIED="$(count "$FAILED_PACK")"
[ "$RETRIED" = 40 ] || { echo "$FAILED_PACK: $RETRIED workflows after the retried sync, expected 40" >&2; exit 1; }
[ "$(count first)" = "$FIRST" ] || { echo "first pack changed after the reopen" >&2; exit 1; }
for r in $(seq 1 $((round - 1))); do
    [ "$(count "big$r")" = 40 ] || { echo "big$r lost workflows after the reopen" >&2; exit 1; }
done
REOPENS="$(grep -c "database reopened in place" "$WORK/server.log" || true)"
[ "$REOPENS" = 1 ] || { echo "expected one reopen in the log, found $REOPENS" >&2; exit 1; }
echo "without a restart: sync of $FAILED_PACK answered 200 ($RETRIED workflows), earlier packs intact, $REOPENS reopen logged"

# A restart on the same file opens it with everything.
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
start "$DATA"
TOKEN="$(login)"
RESTARTED="$(count first)"
[ "$RESTARTED" = "$FIRST" ] || { echo "after restart: $RESTARTED workflows" >&2; exit 1; }
[ "$(count "$FAILED_PACK")" = 40 ] || { echo "after restart: $FAILED_PACK lost workflows" >&2; exit 1; }
echo "after a restart: first pack $RESTARTED workflows, $FAILED_PACK 40"
echo "server log (warnings and errors):"
grep -E "WARN|ERROR" "$WORK/server.log" | cut -c1-300 | head -8
echo "disk-full: PASS"
