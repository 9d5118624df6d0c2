#!/usr/bin/env bash
# Task-graph benchmark of issue 18 in headless Chromium (playwright-core, as
# scripts/e2e.sh): layout time and the page's longest unresponsive gap for
# generated workflows of 100 / 400 / 1,200 / 3,000 tasks, before (graph.js
# of a git revision) and after (web/js/ of this tree), in one run; then the
# workflow page of the real appliance for the same sizes, with screenshots.
# Generated workflows: scripts/lib/graph-gen.mjs; the measuring code:
# scripts/lib/bench-graph.mjs (what each table means is written there).
#
#   scripts/bench-graph.sh                          # everything
#   scripts/bench-graph.sh --screenshots DIR        # also save screenshots
#   SIZES=100,400 RUNS=1 scripts/bench-graph.sh     # quicker
#
# Env: BEFORE (git revision with the old layout; 9acb6ff, the last one
# before issue 18), SIZES (100,400,1200,3000), SHAPES (pipeline,chain,mesh),
# RUNS (3), OLD_TIMEOUT (seconds the old layout may run per size, 90),
# ATTUNE_BIN (target/release/attune if built, else target/debug/attune,
# built if missing), CHROMIUM (/usr/bin/chromium), JSON (write the figures).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

shots=""
if [[ "${1:-}" == "--screenshots" ]]; then
  shots="$(realpath -m "${2:?--screenshots needs a directory}")"
fi
BEFORE="${BEFORE:-9acb6ffd2fd6ea9463b1a9e227297f7220c9cbdf}"
SIZES="${SIZES:-100,400,1200,3000}"
SHAPES="${SHAPES:-pipeline,chain,mesh}"
RUNS="${RUNS:-3}"
OLD_TIMEOUT="${OLD_TIMEOUT:-90}"
target="${CARGO_TARGET_DIR:-target}"
if [[ -z "${ATTUNE_BIN:-}" ]]; then
  if [[ -x "$target/release/attune" ]]; then ATTUNE_BIN="$target/release/attune"
  else
    [[ -x "$target/debug/attune" ]] || nice -n 15 cargo build --quiet --bin attune
    ATTUNE_BIN="$target/debug/attune"
  fi
fi
command -v node >/dev/null || { echo "bench-graph: node is required" >&2; exit 1; }
[[ -x "${CHROMIUM:-/usr/bin/chromium}" ]] || { echo "bench-graph: chromium not found" >&2; exit 1; }
if [[ ! -d tests/e2e/node_modules/playwright-core ]]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/old" "$tmp/packs/graph_bench/workflows" "$tmp/data"
git show "$BEFORE:web/js/graph.js" >"$tmp/old/graph.js"
git show "$BEFORE:web/js/dom.js" >"$tmp/old/dom.js"
printf 'ref: graph_bench\nlabel: Graph benchmark\nversion: "1.0.0"\n' >"$tmp/packs/graph_bench/pack.yaml"
node --input-type=module -e "
import fs from 'node:fs';
import { pipeline, toYaml } from '$root/scripts/lib/graph-gen.mjs';
for (const n of '$SIZES'.split(',').map(Number)) {
  fs.writeFileSync('$tmp/packs/graph_bench/workflows/pipeline_' + n + '.yaml', toYaml(pipeline(n), 'Pipeline of ' + n + ' tasks'));
}"

password="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
# shellcheck source=lib/server.sh
source "$root/scripts/lib/server.sh"
attune_start "$tmp/server.log" env ATTUNE__ADMIN_PASSWORD="$password" "$ATTUNE_BIN" serve \
  --packs-dir "$tmp/packs" --data-dir "$tmp/data" --register-packs || exit 1
server_pid=$ATTUNE_PID
addr=$ATTUNE_ADDR
echo "bench-graph: $ATTUNE_BIN on $addr; before = $BEFORE"

args=(--old-dir "$tmp/old" --sizes "$SIZES" --shapes "$SHAPES" --runs "$RUNS" --old-timeout "$OLD_TIMEOUT"
  --base "http://$addr" --password "$password" --pack graph_bench)
[[ -n "$shots" ]] && args+=(--screenshots "$shots")
[[ -n "${JSON:-}" ]] && args+=(--json "$JSON")
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" node scripts/lib/bench-graph.mjs "${args[@]}"
