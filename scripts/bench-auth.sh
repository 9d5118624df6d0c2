#!/usr/bin/env bash
# Access-control cost benchmarks of docs/PERFORMANCE.md ("Access control"),
# against the release binary on 127.0.0.1, all rows of one round in one run:
#
#  1. GET /api/v1/packs/demo req/s with an API token (att_…, a SHA-256
#     lookup) and with a JWT access token, against GET /health (no auth),
#     wrk -t2 -c32, DURATION each, alternating, ROUNDS rounds.
#     Target: API token ≥ 0.9× JWT.
#  2. TLS (server.tls.self_signed) against plain HTTP on GET /health:
#     keep-alive throughput (wrk -c32) and new-connection rate
#     (`Connection: close`, so every request pays a TCP + TLS handshake).
#
# Usage: scripts/bench-auth.sh          Env: ATTUNE_BIN, ROUNDS (3), DURATION (8s)
# Needs: wrk, curl, jq. Run it on a quiet box: it has 2 shared cores.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${ATTUNE_BIN:-target/release/attune}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-8s}"
PASSWORD="bench-auth-password-1"
[ -x "$BIN" ] || cargo build --release --bin attune
for tool in wrk curl jq; do
    command -v "$tool" >/dev/null || { echo "bench-auth: missing $tool" >&2; exit 2; }
done

WORK="$(mktemp -d)"
# shellcheck source=lib/server.sh
source scripts/lib/server.sh
stop() { attune_stop; PID=""; }
trap 'stop; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/packs"
cp -r examples/packs/demo "$WORK/packs/"

start() { # start SCHEME [extra env...]
    local scheme=$1; shift
    rm -rf "$WORK/data"
    attune_start "$WORK/server.log" env ATTUNE__ADMIN_PASSWORD="$PASSWORD" "$@" "$BIN" serve \
        --packs-dir "$WORK/packs" --data-dir "$WORK/data" --register-packs || exit 1
    PID=$ATTUNE_PID
    URL="$ATTUNE_URL"
    [ "$scheme" = "${URL%%://*}" ] || { echo "bench-auth: expected $scheme, got $URL" >&2; exit 1; }
    JWT="$(attune_login "$PASSWORD")" || exit 1
    APIT="$(curl -sk -X POST "$URL/api/v1/tokens" -H "Authorization: Bearer $JWT" \
        -H 'Content-Type: application/json' -d '{"name":"bench","role":"viewer"}' | jq -r .data.token)"
    [[ "$JWT" == ey* && "$APIT" == att_* ]] || { echo "bench-auth: no tokens ($JWT / $APIT)" >&2; exit 1; }
    [ "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $APIT" "$URL/api/v1/packs/demo")" = 200 ] \
        || { echo "bench-auth: API token refused" >&2; exit 1; }
}
rps() { # rps URL [wrk args...] -> requests/s, non-2xx count
    local url=$1; shift
    local out
    out="$(wrk -t2 -c32 -d"$DURATION" "$@" "$url")"
    local r non
    r="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
    non="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
    echo "$r ${non:-0}"
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD)"
start http
for round in $(seq 1 "$ROUNDS"); do
    h="$(rps "$URL/health")"
    j="$(rps "$URL/api/v1/packs/demo" -H "Authorization: Bearer $JWT")"
    a="$(rps "$URL/api/v1/packs/demo" -H "Authorization: Bearer $APIT")"
    awk -v r="$round" -v h="$h" -v j="$j" -v a="$a" 'BEGIN {
        split(h, H, " "); split(j, J, " "); split(a, A, " ");
        printf "auth round %d: health %.0f rps | JWT %.0f rps (%.2fx health, non-2xx %d) | API token %.0f rps (%.2fx health, non-2xx %d) | API token / JWT %.3f\n",
            r, H[1], J[1], J[1]/H[1], J[2], A[1], A[1]/H[1], A[2], A[1]/J[1] }'
done
stop

for round in $(seq 1 "$ROUNDS"); do
    start http
    hk="$(rps "$URL/health")"; hc="$(rps "$URL/health" -H 'Connection: close')"
    stop
    start https ATTUNE__SERVER__TLS__SELF_SIGNED=true
    tk="$(rps "$URL/health")"; tc="$(rps "$URL/health" -H 'Connection: close')"
    stop
    awk -v r="$round" -v hk="$hk" -v hc="$hc" -v tk="$tk" -v tc="$tc" 'BEGIN {
        split(hk, HK, " "); split(hc, HC, " "); split(tk, TK, " "); split(tc, TC, " ");
        printf "tls round %d: keep-alive http %.0f / https %.0f rps (%.2fx) | new connection per request http %.0f / https %.0f rps (%.2fx)\n",
            r, HK[1], TK[1], TK[1]/HK[1], HC[1], TC[1], TC[1]/HC[1] }'
done
