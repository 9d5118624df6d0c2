#!/usr/bin/env bash
# Replays the curl and Python examples of the API document (docs/seed/api-pack-workflows.md)
# (docs/seed/api-pack-workflows.md, the user's own API document, copied
# unchanged) against a real attune server.
#
# The examples run as written: the server listens on localhost:8080 (the
# examples' address) and `$TOKEN` holds a real access token. Two edits to
# the Python example only: its placeholder `TOKEN = "your_access_token"`
# gets the real token, and its indentation, which the stored copy of the
# document lost, is restored (the script checks that the restored text
# equals the document's once leading whitespace and blank lines are
# ignored, so nothing else differs). Each example's output is checked for the API document's
# messages; the CI/CD script runs twice (with a clean pack, then with the
# seed's broken workflow, where it must exit 1).
#
# Usage: scripts/seed-examples.sh [SEED_DOC]
#   SEED_DOC      default: docs/seed/api-pack-workflows.md
#   ATTUNE_BIN    binary to run (default: target/debug/attune, built if missing)
#   SEED_PORT     port instead of 8080 (rewrites "localhost:8080" in the examples)
# Needs: curl, jq (the CI example uses it), python3 with requests (a venv
# with requests is created in the work dir when the system has none).

set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
doc="${1:-$repo/docs/seed/api-pack-workflows.md}"
port="${SEED_PORT:-8080}"
bin="${ATTUNE_BIN:-$repo/target/debug/attune}"
password="seed-examples-password"

fail() { echo "seed-examples: FAIL: $*" >&2; exit 1; }
[ -f "$doc" ] || fail "seed document not found: $doc (pass its path as the first argument)"
for tool in curl jq python3; do
  command -v "$tool" >/dev/null || fail "$tool is required"
done
if [ ! -x "$bin" ]; then
  (cd "$repo" && cargo build --quiet) || fail "cargo build failed"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

python="python3"
if ! python3 -c 'import requests' 2>/dev/null; then
  python3 -m venv "$work/venv" && "$work/venv/bin/pip" install --quiet requests \
    || fail "cannot install requests in a venv"
  python="$work/venv/bin/python"
fi

# Packs on disk: the API document's tree for my_pack, one workflow for core.
good() {
  cat <<EOF
label: "$1"
description: "$1 (seed examples)"
version: "1.0.0"
tasks:
  - name: run
    action: core.echo
    input:
      message: "$1"
EOF
}
mkdir -p "$work/packs/my_pack/actions" "$work/packs/my_pack/sensors" \
  "$work/packs/my_pack/workflows" "$work/packs/core/workflows"
good "Deploy app" > "$work/packs/my_pack/workflows/deploy_app.yaml"
good "Rollback" > "$work/packs/my_pack/workflows/rollback.yaml"
good "Health check" > "$work/packs/my_pack/workflows/health_check.yml"
good "Core hello" > "$work/packs/core/workflows/hello.yaml"

if curl -s -o /dev/null "http://127.0.0.1:$port/health"; then
  fail "port $port is in use; stop that server or set SEED_PORT"
fi
ATTUNE__ADMIN_PASSWORD="$password" "$bin" serve --host 127.0.0.1 --port "$port" \
  --data-dir "$work/data" --packs-dir "$work/packs" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  curl -s -o /dev/null "http://127.0.0.1:$port/health" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "server exited"; }
  sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$port/health" || fail "server did not answer"

TOKEN="$(curl -s -X POST "http://127.0.0.1:$port/auth/login" -H 'Content-Type: application/json' \
  -d "{\"login\":\"admin\",\"password\":\"$password\"}" | jq -r .data.access_token)"
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || fail "login failed"
export TOKEN
# Setup (not a seed example): the examples sync and validate a pack named core.
curl -s -X POST "http://127.0.0.1:$port/api/v1/packs" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"ref":"core","label":"Core","version":"1.0.0"}' \
  | jq -e '.message == "Pack created successfully"' >/dev/null || fail "cannot create pack core"

# Extract the examples: every ```bash block that runs curl, and the ```python block.
"$python" - "$doc" "$work" "$port" "$TOKEN" <<'PY'
import pathlib, re, sys
doc, work, port, token = sys.argv[1:]
text = pathlib.Path(doc).read_text()
# The seed's Python example with its indentation (lost in the stored copy).
RESTORED = '''import requests

API_URL = "http://localhost:8080"
TOKEN = "your_access_token"

def sync_workflows(pack_ref: str):
    """Sync workflows after local changes."""
    response = requests.post(
        f"{API_URL}/api/v1/packs/{pack_ref}/workflows/sync",
        headers={"Authorization": f"Bearer {TOKEN}"}
    )
    data = response.json()["data"]
    print(f"Synced {data['registered_count']} workflows")
    if data['errors']:
        print("Errors:", data['errors'])
    return data

# Usage
sync_workflows("my_pack")
'''
blocks = re.findall(r"```(bash|python)\n(.*?)```", text, re.S)
n = 0
for lang, body in blocks:
    if lang == "bash" and "curl" not in body:
        continue
    if lang == "python":
        strip = lambda t: [l.strip() for l in t.splitlines() if l.strip()]
        if strip(body) != strip(RESTORED):
            sys.exit("the python example differs from the one this script knows; update RESTORED")
        body = RESTORED
        assert 'TOKEN = "your_access_token"' in body
        body = body.replace('TOKEN = "your_access_token"', f'TOKEN = "{token}"')
    if port != "8080":
        body = body.replace("localhost:8080", f"localhost:{port}")
    n += 1
    pathlib.Path(work, f"example{n}.{'sh' if lang == 'bash' else 'py'}").write_text(body)
print(f"extracted {n} examples")
PY

run() { # run FILE → output in $out, status in $status
  local file="$1"
  set +e
  if [[ "$file" == *.py ]]; then out="$("$python" "$file" 2>&1)"; else out="$(bash "$file" 2>&1)"; fi
  status=$?
  set -e
  echo "---- $(basename "$file") (exit $status)"
  echo "$out" | head -c 1500; echo
}
expect() { # expect TEXT...: every text in $out
  for t in "$@"; do
    grep -qF -- "$t" <<<"$out" || fail "expected '$t' in the output of the example above"
  done
}
mapfile -t examples < <(ls "$work"/example*.sh "$work"/example*.py | sort -V)
[ "${#examples[@]}" -eq 7 ] || fail "expected 7 examples (6 curl blocks, 1 python), found ${#examples[@]}"

run "${examples[0]}"   # sync core
expect '"pack_ref":"core"' '"registered_count":1' '"message":"Pack workflows synced successfully"'
run "${examples[1]}"   # validate core
expect '"validated_count":1' '"error_count":0' '"message":"Pack workflows validated"'
run "${examples[2]}"   # create my_pack: auto-sync
expect '"message":"Pack created successfully"' '"workflow_count":3'
run "${examples[3]}"   # update my_pack: auto-sync again
expect '"version":"1.1.0"' '"label":"My Pack (Updated)"' '"message":"Pack updated successfully"'
run "${examples[4]}"   # best practice: validate, then sync
expect '"message":"Pack workflows validated"' '"message":"Pack workflows synced successfully"' \
  '"registered_count":3'

# The CI/CD script: my_pack exists and is clean → deploys (the create answers 409).
run "${examples[5]}"
[ "$status" -eq 0 ] || fail "the CI script should pass on a clean pack"
expect "Validating workflows..." "Deploying pack..." '"code":"CONFLICT"' "Syncing workflows..." \
  '"registered_count":3' "Deployment complete!"
# With the API document's broken workflow it must stop with the API document's messages.
printf 'label: "Broken"\ntasks:\n  - name: step1\n    action: invalid.action\n' \
  > "$work/packs/my_pack/workflows/broken.yaml"
run "${examples[5]}"
[ "$status" -eq 1 ] || fail "the CI script should exit 1 on validation errors"
expect "Validation errors found:" '"my_pack.broken": [' '"Missing required field: version",' \
  "\"Task 'step1' references undefined action 'invalid.action'\""
rm "$work/packs/my_pack/workflows/broken.yaml"

run "${examples[6]}"   # the Python example
[ "$status" -eq 0 ] || fail "the python example failed"
expect "Synced 3 workflows"

echo "seed-examples: OK (7 examples replayed against attune on localhost:$port)"
