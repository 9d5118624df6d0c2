#!/usr/bin/env bash
# A real editor as the client: headless Neovim (Debian's `neovim`) with its
# built-in LSP client runs `attune lsp` on a fixture pack, prints the
# diagnostics it received and a completion answer, and checks them.
# Usage: scripts/nvim-lsp.sh [path/to/attune]   (default: target/debug/attune)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/debug/attune}")"
command -v nvim >/dev/null || { echo "nvim not found: apt-get install neovim" >&2; exit 1; }
[ -x "$bin" ] || { echo "$bin not found: cargo build --bin attune" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pack="$tmp/packs/demo"
mkdir -p "$pack/actions" "$pack/workflows"
cat > "$pack/actions/deploy.yaml" <<'YAML'
name: deploy
description: Deploy the release
parameters:
  host: {type: string, required: true}
YAML
cat > "$pack/workflows/release.yaml" <<'YAML'
version: "1.0.0"
label: Release
tasks:
  - name: build
    action: demo.deploy
    input:
      region: eu
    next:
      - when: "{{ succeeded() }}"
        do: [verfy]
  - name: verify
    action: demo.deploi
YAML

ATTUNE_BIN="$bin" ATTUNE_ROOT="$tmp/packs" ATTUNE_FILE="$pack/workflows/release.yaml" \
ATTUNE_OUT="$tmp/out.txt" timeout 60 nvim --headless -u NONE -i NONE -n \
    -c "luafile tests/editors/nvim-lsp.lua" >/dev/null 2>&1 || true
# An action-linked workflow (upstream's layout): the graph-only file is
# checked with its action file, which declares the parameters.
mkdir -p "$pack/actions/workflows"
cat > "$pack/actions/ship.yaml" <<'YAML'
ref: demo.ship
label: Ship
workflow_file: workflows/ship.workflow.yaml
parameters:
  env: {type: string, required: true}
YAML
cat > "$pack/actions/workflows/ship.workflow.yaml" <<'YAML'
version: "1.0.0"
tasks:
  - name: ship
    action: demo.deploy
    input:
      host: "{{ parameters.envv }}"
YAML
ATTUNE_BIN="$bin" ATTUNE_ROOT="$tmp/packs" ATTUNE_FILE="$pack/actions/workflows/ship.workflow.yaml" \
ATTUNE_OUT="$tmp/out-linked.txt" ATTUNE_COMPLETE="5:27" timeout 60 nvim --headless -u NONE -i NONE -n \
    -c "luafile tests/editors/nvim-lsp.lua" >/dev/null 2>&1 || true
nvim --version | head -1
echo "diagnostics Neovim received:"
cat "$tmp/out.txt"
echo "on the action-linked graph file actions/workflows/ship.workflow.yaml:"
cat "$tmp/out-linked.txt"
cat "$tmp/out-linked.txt" >> "$tmp/out.txt"

fail=0
expect() {
    grep -qF -- "$1" "$tmp/out.txt" || { echo "MISSING: $1" >&2; fail=1; }
}
expect "7:7-7:17 severity=1 code=missing-input Task 'build' is missing required input 'host'"
expect "code=unexpected-input"
expect "10:14-10:19 severity=1 code=unknown-task Task 'build' references non-existent task 'verfy' | hint: did you mean 'verify'?"
expect "12:13-12:24 severity=1 code=undefined-action"
expect "hint: the closest is 'demo.deploy'"
expect "completion: build,verify"
expect "6:28-6:32 severity=2 code=unknown-variable parameter 'envv' is not declared"
expect "hint: did you mean 'env'?"
expect "completion: env"
if grep -q '^ERROR' "$tmp/out.txt"; then fail=1; fi
[ "$fail" = 0 ] && echo "nvim-lsp: ok"
exit "$fail"
