#!/usr/bin/env bash
# Disk full during a sync: the data dir is a small tmpfs (needs root and
# mount privileges), the packs folder is elsewhere. A first pack is synced
# while there is room; then packs with large workflow files are synced until
# the database cannot grow. Expected: each failing sync answers an error
# (never hangs), the server keeps answering reads and logins, the first
# pack's workflows are intact, and after the space is freed (a bigger
# tmpfs is not possible under a live mount, so the server is restarted on a
# copy of the file on a normal disk) the database opens and holds them.
#
#   sudo scripts/disk-full.sh [SIZE]     (default 3m)
# Env: ATTUNE_BIN (default target/debug/attune, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-3m}"
BIN="${ATTUNE_BIN:-target/debug/attune}"
CORPUS="${ATTUNE_CORPUS:-tests/corpus/attune}"
PASSWORD="disk-full-password-1"
[ -x "$BIN" ] || cargo build
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
    ATTUNE__ADMIN_PASSWORD="$PASSWORD" RUST_LOG=warn "$BIN" serve --data-dir "$data" \
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
case "$failed" in 5*) ;; *) echo "a failed sync should answer 5xx (server-side fault), got $failed" >&2; exit 1 ;; esac

# Still serving: health, reads, login, and the first pack is intact.
curl -fsS "$BASE/health" >/dev/null || { echo "health fails after disk full" >&2; exit 1; }
TOKEN="$(login)" || { echo "login fails after disk full" >&2; exit 1; }
AFTER="$(count first)"
[ "$AFTER" = "$FIRST" ] || { echo "first pack: $FIRST workflows before, $AFTER after" >&2; exit 1; }
echo "after disk full: health ok, login ok, first pack still $AFTER workflows"
grep -q "panicked" "$WORK/server.log" && { echo "panic in the server log" >&2; exit 1; }

# Restart on a copy with room: the file opens and holds the first pack.
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
mkdir -p "$WORK/roomy" && cp "$DATA/attune.redb" "$WORK/roomy/"
start "$WORK/roomy"
TOKEN="$(login)"
RESTARTED="$(count first)"
[ "$RESTARTED" = "$FIRST" ] || { echo "after restart: $RESTARTED workflows" >&2; exit 1; }
echo "restart on a roomy copy: first pack still $RESTARTED workflows"
echo "server log (warnings and errors):"
grep -E "WARN|ERROR" "$WORK/server.log" | cut -c1-300 | head -5
echo "disk-full: PASS"
