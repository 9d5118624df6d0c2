#!/usr/bin/env bash
# End-to-end browser test of the web UI: builds the binary (debug), starts it
# on a temp packs dir and a temp data dir (port 0), and runs
# tests/e2e/e2e.mjs in headless Chromium (Debian's /usr/bin/chromium through
# playwright-core). Prints "e2e: N passed, M failed"; exits non-zero on failure.
#
#   scripts/e2e.sh                      # run the test
#   scripts/e2e.sh --screenshots DIR    # also save screenshots into DIR
#
# Needs: cargo, node >= 18, npm (first run installs tests/e2e/node_modules
# from package-lock.json), chromium (apt-get install -y chromium chromium-driver).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

shots=""
if [[ "${1:-}" == "--screenshots" ]]; then
  shots="$(realpath -m "${2:?--screenshots needs a directory}")"
fi

chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium_bin" ]]; then
  echo "e2e: chromium not found at $chromium_bin; install it with: apt-get install -y chromium chromium-driver" >&2
  exit 1
fi
command -v node >/dev/null || { echo "e2e: node is required (apt-get install -y nodejs npm)" >&2; exit 1; }

echo "e2e: building attune (debug)"
cargo build --quiet --bin attune

if [[ ! -d tests/e2e/node_modules/playwright-core ]]; then
  echo "e2e: installing playwright-core (npm ci)"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "e2e: UI unit tests (node --test tests/e2e/unit/)"
unit_status=0
unit_log="$(mktemp)"
node --test tests/e2e/unit/ >"$unit_log" 2>&1 || unit_status=$?
grep -E '^# (tests|pass|fail) ' "$unit_log" || true
if [[ $unit_status -ne 0 ]]; then
  cat "$unit_log" >&2
fi
rm -f "$unit_log"

tmp="$(mktemp -d)"
# shellcheck source=lib/server.sh
source "$root/scripts/lib/server.sh"
cleanup() {
  attune_stop
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/packs" "$tmp/data"
password="e2e-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

attune_start "$tmp/server.log" env ATTUNE__ADMIN_PASSWORD="$password" \
  "${CARGO_TARGET_DIR:-target}/debug/attune" serve \
  --packs-dir "$tmp/packs" --data-dir "$tmp/data" --watch || exit 1
addr="$ATTUNE_ADDR"
echo "e2e: server on $addr"

args=(--base "http://$addr" --packs-dir "$tmp/packs" --password "$password")
[[ -n "$shots" ]] && args+=(--screenshots "$shots")
status=0
CHROMIUM="$chromium_bin" node tests/e2e/e2e.mjs "${args[@]}" || status=$?
if [[ $status -ne 0 ]]; then
  echo "e2e: server log (last 40 lines):" >&2
  tail -n 40 "$tmp/server.log" >&2
fi
if [[ $unit_status -ne 0 ]]; then
  echo "e2e: the UI unit tests failed" >&2
  status=1
fi
exit $status
