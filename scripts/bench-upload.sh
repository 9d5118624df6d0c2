#!/usr/bin/env bash
# Pack upload benchmarks of docs/PERFORMANCE.md ("Pack upload"), against the
# release binary on 127.0.0.1:
#
#  1. upload + sync of a 1,000-workflow pack archive (built by `attune pack
#     build` from the generated corpus) against registering the same files
#     already on disk (`POST /api/v1/packs/register`: create + cold sync),
#     alternating, ROUNDS rounds, in one run; the pack is deleted between
#     measurements so every sync is cold. Target: upload ≤ 1.5× on-disk.
#  2. peak RSS (VmHWM) growth of the server during one 50 MiB upload
#     (incompressible files) over its idle peak. Target: < 32 MiB (it streams).
#
# Usage: scripts/bench-upload.sh [--skip-build]     Env: ROUNDS (5), SETTLE (0), TMPDIR (/tmp)
# Needs: curl, jq. Never run it beside a compile: the box has 2 shared cores.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROUNDS=${ROUNDS:-5}
# Seconds between removing the last round's folder and the next upload.
# ext4 without a journal does not reuse an inode freed in the last 30 s
# (5.5 min while its table block is dirty): creating 1,021 files right
# after deleting 1,021 in the same block group scanned the inode table for
# each one (perf: ~45 % of the upload in the kernel's recently_deleted),
# until staging folders got the TOPDIR flag (src/pack/stage.rs). 0 (the
# default) measures that worst case; 31 lets the deletions age first.
SETTLE=${SETTLE:-0}
PASSWORD=bench-password-1
BIN=$ROOT/target/release/attune
GEN=$ROOT/target/debug/examples/gen_corpus
if [[ "${1:-}" != "--skip-build" ]]; then
    cargo build --release --bin attune
    cargo build --example gen_corpus
fi
for tool in curl jq "$BIN" "$GEN"; do
    command -v "$tool" >/dev/null || { echo "bench-upload: missing $tool" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/attune-bench-upload.XXXXXX")
# shellcheck source=lib/server.sh
source "$ROOT/scripts/lib/server.sh"
SERVER_PID=
cleanup() {
    attune_stop
    rm -rf "$WORK"
}
trap cleanup EXIT

"$GEN" "$WORK/src" --workflows 1000 --name bench >/dev/null
"$BIN" pack build "$WORK/src/bench" -o "$WORK/bench.tar.gz" | tail -n 1
ARCHIVE_BYTES=$(stat -c %s "$WORK/bench.tar.gz")
UNPACKED=$(du -sb "$WORK/src/bench" | cut -f1)

# 50 MiB that does not compress: 50 files of 1 MiB (max_workflow_file_bytes).
mkdir -p "$WORK/big/big/files"
printf 'ref: big\nlabel: Big\nversion: "1"\n' >"$WORK/big/big/pack.yaml"
for i in $(seq -w 1 50); do head -c 1048576 /dev/urandom >"$WORK/big/big/files/blob$i.bin"; done
tar -czf "$WORK/big.tar.gz" -C "$WORK/big" big
BIG_BYTES=$(stat -c %s "$WORK/big.tar.gz")

mkdir -p "$WORK/packs" "$WORK/data"
serve() {
    attune_start "$WORK/server.log" env ATTUNE__ADMIN_PASSWORD="$PASSWORD" RUST_LOG=warn,attune::api::pack_delivery=info "$BIN" serve \
        --packs-dir "$WORK/packs" --data-dir "$WORK/data" || exit 1
    SERVER_PID=$ATTUNE_PID
    API=$ATTUNE_URL
    TOKEN="$(attune_login "$PASSWORD")" || exit 1
}
serve
auth=(-H "Authorization: Bearer $TOKEN")

delete_pack() { curl -sf -o /dev/null -X DELETE "$API/api/v1/packs/$1" "${auth[@]}"; }

upload_ms() {
    curl -sf -o "$WORK/up.json" -w '%{time_total}' -X POST "$API/api/v1/packs/upload" "${auth[@]}" \
        -F "pack=@$1" -F force=true | awk '{printf "%.0f", $1 * 1000}'
}

register_ms() {
    curl -sf -o "$WORK/reg.json" -w '%{time_total}' -X POST "$API/api/v1/packs/register" "${auth[@]}" \
        -H 'Content-Type: application/json' -d '{"ref":"bench"}' | awk '{printf "%.0f", $1 * 1000}'
}

echo "archive: $ARCHIVE_BYTES bytes gzip, $UNPACKED bytes unpacked, 1,000 workflows; ${SETTLE} s after each folder removal"
echo "round  upload+sync ms (sync ms)  on-disk register ms (sync ms)  ratio  upload split (server log)"
ratios=()
# A warm-up pair, not counted (page cache, allocator).
upload_ms "$WORK/bench.tar.gz" >/dev/null; delete_pack bench; register_ms >/dev/null; delete_pack bench; rm -rf "$WORK/packs/bench"; sleep "$SETTLE"
for r in $(seq 1 "$ROUNDS"); do
    up=$(upload_ms "$WORK/bench.tar.gz")
    up_sync=$(jq .data.sync.duration_ms "$WORK/up.json")
    [[ "$(jq .data.sync.registered_count "$WORK/up.json")" == 1000 ]] || { echo "upload registered $(jq .data.sync.registered_count "$WORK/up.json")" >&2; exit 1; }
    delete_pack bench            # the folder stays: now register the same files from disk
    reg=$(register_ms)
    reg_sync=$(jq .data.sync.duration_ms "$WORK/reg.json")
    [[ "$(jq .data.sync.registered_count "$WORK/reg.json")" == 1000 ]] || { echo "register registered $(jq .data.sync.registered_count "$WORK/reg.json")" >&2; exit 1; }
    delete_pack bench
    rm -rf "$WORK/packs/bench"
    sleep "$SETTLE"
    ratio=$(awk -v a="$up" -v b="$reg" 'BEGIN { printf "%.2f", a / b }')
    ratios+=("$ratio")
    split=$(grep 'pack upload' "$WORK/server.log" | tail -n1 | grep -oE '(unpack_ms|swap_ms|sync_ms)=[0-9]+' | tr '\n' ' ')
    printf '%5s  %11s (%s)  %17s (%s)  %5s  %s\n' "$r" "$up" "$up_sync" "$reg" "$reg_sync" "$ratio" "$split"
done
sorted=$(printf '%s\n' "${ratios[@]}" | sort -n)
echo "upload / on-disk: $(head -n1 <<<"$sorted")–$(tail -n1 <<<"$sorted")× (target ≤ 1.5×)"

hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }
# The peak so far includes the 1,000-workflow syncs above; restart for a
# clean idle peak.
attune_stop
serve
auth=(-H "Authorization: Bearer $TOKEN")
curl -sf -o /dev/null "$API/api/v1/packs" "${auth[@]}"
idle=$(hwm_kib)
big_ms=$(upload_ms "$WORK/big.tar.gz")
[[ "$(jq -r .data.ref "$WORK/up.json")" == big ]] || { echo "big upload failed: $(cat "$WORK/up.json")" >&2; exit 1; }
peak=$(hwm_kib)
echo "50 MiB upload ($BIG_BYTES bytes gzip, $(jq .data.files "$WORK/up.json") files): ${big_ms} ms; peak RSS idle $((idle / 1024)) MiB → $((peak / 1024)) MiB: growth $(((peak - idle) / 1024)) MiB (target < 32 MiB); RSS after $(( $(rss_kib) / 1024 )) MiB"
