#!/usr/bin/env bash
# Installs code-server (VS Code in the browser) from the npm registry into
# DIR, for scripts/editors/vscode-lsp.sh, on a machine whose only network is
# the package registries: its postinstall downloads ripgrep from GitHub,
# so this runs the postinstall's steps by hand with Debian's ripgrep.
# Needs Node 20 (code-server 4.100.x requires it), build-essential,
# python3, and: apt-get install -y ripgrep libkrb5-dev libsecret-1-dev libxkbfile-dev libx11-dev
# Usage: scripts/editors/install-code-server.sh DIR    (then CODE_SERVER=DIR/node_modules/.bin/code-server)
set -euo pipefail
dir="$(realpath -m "${1:?usage: install-code-server.sh DIR}")"
version="${CODE_SERVER_VERSION:-4.100.3}"
command -v rg >/dev/null || { echo "ripgrep not found: apt-get install -y ripgrep" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
[[ -f package.json ]] || npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts "code-server@$version"
npm rebuild argon2
export npm_config_unsafe_perm=true
cd node_modules/code-server/lib/vscode
npm install --omit=dev --ignore-scripts --no-audit --no-fund
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
# Builds the native modules; node-pty's post-install (compile_commands.json
# for editors, through npx node-gyp) fails offline and is not needed.
npm rebuild || echo "install-code-server: npm rebuild reported an error (node-pty's post-install is expected)"
[[ -f node_modules/node-pty/build/Release/pty.node ]] || { echo "node-pty was not built" >&2; exit 1; }
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev --no-audit --no-fund)
# (--version writes a default config under XDG_CONFIG_HOME: a temp one.)
cfg="$(mktemp -d)"
XDG_CONFIG_HOME="$cfg" "$dir/node_modules/.bin/code-server" --version | tail -1
rm -rf "$cfg"
