#!/usr/bin/env bash
# A real editor as the client: Helix (`hx`) in a tmux pane runs `attune lsp`
# on a copy of the demo pack with the languages.toml of docs/EDITORS.md,
# opens the broken workflow, reads the diagnostics picker (space d), applies
# the quick fix (space a, "change to 'verify'"), saves, and checks the file.
# Prints the screens it read.
#
# Usage: scripts/editors/helix-lsp.sh [--optional] [path/to/attune]
#   (default binary: target/release/attune, else target/debug/attune)
#   HX=/path/to/hx        the Helix binary (default: hx on PATH)
#   HELIX_RUNTIME=dir     Helix's runtime/ folder (default: next to a hx
#                         built from source, <helix>/target/release/hx)
# --optional: exit 0 with a message when hx or tmux is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
optional=0
if [[ "${1:-}" == "--optional" ]]; then optional=1; shift; fi
skip() {
    echo "helix-lsp: SKIPPED: $1" >&2
    if [[ $optional == 1 ]]; then exit 0; else exit 1; fi
}
default_bin=target/release/attune
[[ -x $default_bin ]] || default_bin=target/debug/attune
bin="$(realpath "${1:-$default_bin}")"
[[ -x "$bin" ]] || { echo "$bin not found: cargo build --release --bin attune" >&2; exit 1; }
hx="${HX:-hx}"
command -v "$hx" >/dev/null || skip "Helix not found (set HX=/path/to/hx; build: see docs/EDITORS.md)"
hx="$(realpath "$(command -v "$hx")")"
command -v tmux >/dev/null || skip "tmux not found: apt-get install -y tmux"
if [[ -z "${HELIX_RUNTIME:-}" && -d "$(dirname "$hx")/../../runtime" ]]; then
    export HELIX_RUNTIME="$(realpath "$(dirname "$hx")/../../runtime")"
fi

tmp="$(mktemp -d)"
session="attune-hx-$$"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$tmp"' EXIT
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
mkdir -p "$HOME" "$XDG_CONFIG_HOME/helix" "$XDG_CACHE_HOME"
# The binary as `attune` on PATH: the documented languages.toml, verbatim.
mkdir -p "$tmp/bin"
ln -s "$bin" "$tmp/bin/attune"
export PATH="$tmp/bin:$PATH"
cat > "$XDG_CONFIG_HOME/helix/languages.toml" <<'TOML'
[language-server.attune]
command = "attune"
args = ["lsp"]
config = { rulesUrl = "http://attune.example:8080/docs/rules" }

[[language]]
name = "yaml"
language-servers = ["yaml-language-server", "attune"]
TOML
# Diagnostics shown inline as well (Helix shows them at the cursor only by
# default), so the screen has them without the picker.
cat > "$XDG_CONFIG_HOME/helix/config.toml" <<'TOML'
[editor]
end-of-line-diagnostics = "hint"
[editor.inline-diagnostics]
other-lines = "error"
TOML
cp -r examples/packs/demo "$tmp/demo"
file="$tmp/demo/workflows/broken_deploy.yaml"
cd "$tmp/demo"

"$hx" --version
tmux new-session -d -s "$session" -x 160 -y 45 "'$hx' workflows/broken_deploy.yaml"
screen() { tmux capture-pane -p -t "$session"; }
keys() { tmux send-keys -t "$session" "$@"; }

# keys one by one: ESC followed at once by a key is Alt+key to a terminal.
key() { for k in "$@"; do tmux send-keys -t "$session" "$k"; sleep 0.3; done; }
# Wait for the diagnostics on screen (end-of-line text), then the picker.
seen=""
for _ in $(seq 1 40); do
    sleep 0.5
    if screen | grep -q "non-existent task"; then seen=1; break; fi
done
echo "--- the editor, diagnostics inline:"
screen | tee "$tmp/inline.txt"
key Space d
sleep 0.5
echo "--- the diagnostics picker (space d):"
screen
key Escape
fail=0
check() { # check TEXT SCREENFILE
    grep -qF -- "$1" "$2" || { echo "MISSING: $1" >&2; fail=1; }
}
screen > "$tmp/picker.txt"
[[ -n $seen ]] || echo "no attune diagnostic appeared within 20 s" >&2
check "non-existent task 'verfy'" "$tmp/inline.txt"
check "unknown-task" "$tmp/picker.txt"
check "Task 'deploy' references non-existent task 'verfy'" "$tmp/picker.txt"
check "unknown-key" "$tmp/picker.txt"

# The quick fix: go to the first diagnostic (line 27, `verfy`), ask for the
# code actions, pick "change to 'verify'", save.
key g g "]" d Space a
action=""
for _ in $(seq 1 20); do
    sleep 0.5
    if screen | grep -q "change to 'verify'"; then action=1; break; fi
done
echo "--- the code actions (space a) on 'verfy':"
screen | tee "$tmp/actions.txt"
check "change to 'verify'" "$tmp/actions.txt"
if [[ -n $action ]]; then
    # The menu lists the fixes of the diagnostic under the cursor first.
    n=$(grep -m1 -n "change to 'verify'" "$tmp/actions.txt" | cut -d: -f1)
    first=$(grep -m1 -nE "change to|add |ignore|convert" "$tmp/actions.txt" | cut -d: -f1)
    for _ in $(seq 1 $((n - first))); do key Down; done
    key Enter
    sleep 0.5
    keys ":w" Enter
    sleep 1
fi
echo "--- after the fix, line 27 on disk:"
sed -n 27p "$file"
sed -n 27p "$file" | grep -q -- "- verify$" || { echo "MISSING: the fix on disk" >&2; fail=1; }
# The server re-checks the edited text: the picker no longer has unknown-task.
sleep 1
key Space d
sleep 1
echo "--- the diagnostics picker after the fix:"
screen | tee "$tmp/after.txt"
key Escape
grep -q "unknown-task" "$tmp/after.txt" && { echo "unknown-task still shown" >&2; fail=1; }
check "unknown-key" "$tmp/after.txt"
keys ":q!" Enter
if [[ $fail == 0 ]]; then echo "helix-lsp: OK"; else echo "helix-lsp: FAILED" >&2; fi
exit $fail
