#!/usr/bin/env bash
# A real editor as the client: VS Code (code-server, VS Code in the browser)
# with our extension docs/editors/vscode (vscode-languageclient starting
# `attune lsp`), driven in headless Chromium: opens a copy of the demo pack
# and its broken workflow, waits for the Problems panel to show attune's
# diagnostics, applies the quick fix and checks it is gone. Prints what the
# Problems panel showed.
#
# Usage: scripts/editors/vscode-lsp.sh [--optional] [--screenshots DIR] [path/to/attune]
#   (default binary: target/release/attune, else target/debug/attune)
#   CODE_SERVER=/path/to/code-server   (default: code-server on PATH;
#       npm: `npm_config_unsafe_perm=true npm install code-server@4.100.3`,
#       its binary is node_modules/.bin/code-server)
#   CHROMIUM=/usr/bin/chromium
# --optional: exit 0 with a message when code-server, chromium or node is
# missing. The first run installs the extension's npm packages
# (docs/editors/vscode/package-lock.json) and tests/e2e's playwright-core.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
optional=0 shots=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --optional) optional=1; shift ;;
        --screenshots) shots="$(realpath -m "${2:?--screenshots needs a directory}")"; shift 2 ;;
        *) break ;;
    esac
done
skip() {
    echo "vscode-lsp: SKIPPED: $1" >&2
    if [[ $optional == 1 ]]; then exit 0; else exit 1; fi
}
default_bin=target/release/attune
[[ -x $default_bin ]] || default_bin=target/debug/attune
bin="$(realpath "${1:-$default_bin}")"
[[ -x "$bin" ]] || { echo "$bin not found: cargo build --release --bin attune" >&2; exit 1; }
code_server="${CODE_SERVER:-code-server}"
command -v "$code_server" >/dev/null || skip "code-server not found (set CODE_SERVER=...; install: see docs/EDITORS.md)"
code_server="$(realpath "$(command -v "$code_server")")"
chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
[[ -x "$chromium_bin" ]] || skip "chromium not found: apt-get install -y chromium"
command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are required"
[[ -z $shots ]] || mkdir -p "$shots"

if [[ ! -d tests/e2e/node_modules/playwright-core ]]; then
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# The extension, packaged as users install it: a .vsix from @vscode/vsce.
cp -r docs/editors/vscode "$tmp/extension"
(cd "$tmp/extension" && npm ci --no-audit --no-fund --loglevel=error \
    && npx vsce package --skip-license --allow-missing-repository --out "$tmp/attune-lsp.vsix" </dev/null >/dev/null)
# code-server writes its config under $XDG_CONFIG_HOME: keep it in the temp dir.
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/share"
mkdir -p "$HOME"
"$code_server" --version | tail -1
"$code_server" --extensions-dir "$tmp/exts" --user-data-dir "$tmp/data" \
    --install-extension "$tmp/attune-lsp.vsix"

mkdir -p "$tmp/data/User"
cat > "$tmp/data/User/settings.json" <<JSON
{
  "attune.path": "$bin",
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "workbench.tips.enabled": false
}
JSON
cp -r examples/packs/demo "$tmp/demo"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$code_server" --auth none --bind-addr "127.0.0.1:$port" --disable-telemetry \
    --disable-update-check --disable-workspace-trust \
    --extensions-dir "$tmp/exts" --user-data-dir "$tmp/data" \
    >"$tmp/code-server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    sleep 0.3
done

status=0
VSCODE_URL="http://127.0.0.1:$port" WORKSPACE="$tmp/demo" SHOT_DIR="$shots" \
CHROMIUM="$chromium_bin" E2E_DIR="$root/tests/e2e" \
    timeout 240 node tests/editors/vscode-lsp.mjs || status=$?
if [[ $status != 0 ]]; then
    echo "--- code-server log:" >&2
    tail -40 "$tmp/code-server.log" >&2
fi
exit $status
