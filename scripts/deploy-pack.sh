#!/usr/bin/env bash
# deploy-pack.sh: the seed document's CI/CD "deploy-pack.sh" flow, over REST
# only (nobody logs into the appliance): build the pack archive offline,
# ask the appliance whether it would accept it (dry run), upload it, verify.
#
#   scripts/deploy-pack.sh PACK_DIR        # API_URL (default http://127.0.0.1:8080) and
#                                          # TOKEN, or ATTUNE_LOGIN + ATTUNE_PASSWORD
#   scripts/deploy-pack.sh --self-test     # CI: starts attune on temp dirs and deploys
#                                          # a good pack, a changed one, and a broken one
#
# Exit status: 0 deployed and verified; 1 refused (errors printed) or failed.
# Needs curl and jq; `attune` on PATH or ATTUNE=/path/to/attune.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ATTUNE="${ATTUNE:-attune}"
API_URL="${API_URL:-http://127.0.0.1:8080}"

die() { echo "deploy-pack: $*" >&2; exit 1; }

token() {
  if [[ -n "${TOKEN:-}" ]]; then echo "$TOKEN"; return; fi
  [[ -n "${ATTUNE_LOGIN:-}" && -n "${ATTUNE_PASSWORD:-}" ]] || die "set TOKEN, or ATTUNE_LOGIN and ATTUNE_PASSWORD"
  curl -sS -X POST "$API_URL/auth/login" -H 'Content-Type: application/json' \
    -d "$(jq -n --arg l "$ATTUNE_LOGIN" --arg p "$ATTUNE_PASSWORD" '{login: $l, password: $p}')" \
    | jq -er '.data.access_token' || die "login failed"
}

# deploy PACK_DIR: the four steps; returns non-zero when the pack is refused.
deploy() {
  local dir="$1" work archive tok status body ref version
  work="$(mktemp -d)"
  archive="$work/pack.tar.gz"
  tok="$(token)"

  echo "1. build the archive (validates offline first)"
  if ! "$ATTUNE" pack build "$dir" -o "$archive"; then
    echo "deploy-pack: the pack has errors; nothing was sent" >&2
    rm -rf "$work"; return 1
  fi

  echo "2. dry run: would the appliance accept it?"
  status="$(curl -sS -o "$work/dry.json" -w '%{http_code}' -X POST "$API_URL/api/v1/packs/upload" \
    -H "Authorization: Bearer $tok" -F "pack=@$archive" -F dry_run=true -F force=true)"
  body="$(cat "$work/dry.json")"
  if [[ "$status" != 200 ]]; then
    echo "deploy-pack: the appliance refused the archive ($status): $(jq -r '.error' <<<"$body")" >&2
    jq -r '.diagnostics[]? | "  \(.file):\(.line):\(.column): \(.severity)[\(.code)]: \(.message)"' <<<"$body" >&2
    rm -rf "$work"; return 1
  fi
  if [[ "$(jq '.data.sync.failed | length' <<<"$body")" != 0 ]]; then
    echo "deploy-pack: validation errors against the appliance's catalog:" >&2
    jq -r '.data.sync.errors[]' <<<"$body" >&2
    rm -rf "$work"; return 1
  fi
  ref="$(jq -r '.data.ref' <<<"$body")"
  echo "   ok: pack '$ref', $(jq '.data.sync.loaded_count' <<<"$body") workflow file(s), $(jq '.data.sync.missing | length' <<<"$body") would be pruned"

  echo "3. upload"
  status="$(curl -sS -o "$work/up.json" -w '%{http_code}' -X POST "$API_URL/api/v1/packs/upload" \
    -H "Authorization: Bearer $tok" -F "pack=@$archive" -F force=true)"
  body="$(cat "$work/up.json")"
  [[ "$status" == 200 || "$status" == 201 ]] || { echo "deploy-pack: upload failed ($status): $(jq -r '.error' <<<"$body")" >&2; rm -rf "$work"; return 1; }
  echo "   $(jq -r '.message' <<<"$body")"

  echo "4. verify"
  version="$(jq -r '.data.pack.version' <<<"$body")"
  curl -sS "$API_URL/api/v1/packs/$ref" -H "Authorization: Bearer $tok" >"$work/pack.json"
  jq -e --arg v "$version" '.data.version == $v and .data.last_sync.ok == true' "$work/pack.json" >/dev/null \
    || { echo "deploy-pack: the pack is not as uploaded: $(cat "$work/pack.json")" >&2; rm -rf "$work"; return 1; }
  local registered expected
  registered="$(jq '.data.workflow_count' "$work/pack.json")"
  expected="$(jq '.data.sync.loaded_count' <<<"$body")"
  [[ "$registered" == "$expected" ]] || { echo "deploy-pack: $registered workflow(s) registered, $expected in the archive" >&2; rm -rf "$work"; return 1; }
  echo "Deployment complete: pack '$ref' version $version, $registered workflow(s) registered"
  rm -rf "$work"
}

self_test() {
  command -v jq >/dev/null || die "jq is required"
  cd "$root"
  cargo build --quiet --bin attune
  ATTUNE="${CARGO_TARGET_DIR:-$root/target}/debug/attune"
  tmp="$(mktemp -d)"
  # shellcheck source=lib/server.sh
  source "$root/scripts/lib/server.sh"
  trap 'attune_stop; rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/packs" "$tmp/data"
  ATTUNE_PASSWORD="deploy-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  ATTUNE_LOGIN=admin
  export ATTUNE ATTUNE_LOGIN ATTUNE_PASSWORD
  attune_start "$tmp/server.log" env ATTUNE__ADMIN_PASSWORD="$ATTUNE_PASSWORD" \
    "$ATTUNE" serve --packs-dir "$tmp/packs" --data-dir "$tmp/data" || die "the server did not start"
  API_URL="$ATTUNE_URL"

  # A good pack (the demo without its broken workflow), under its ref's name.
  mkdir -p "$tmp/src"
  cp -r examples/packs/demo "$tmp/src/demo"
  rm "$tmp/src/demo/workflows/broken_deploy.yaml"
  local passed=0 failed=0
  check() { if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $*" >&2; fi; }
  refuses() { if "$@"; then return 1; else return 0; fi; }

  echo "=== a good pack deploys"
  check deploy "$tmp/src/demo"
  echo "=== a changed pack redeploys (a workflow dropped: pruned)"
  rm "$tmp/src/demo/workflows/nightly_report.yml"
  sed -i 's/^version: "1.0.0"/version: "1.1.0"/' "$tmp/src/demo/pack.yaml"
  check deploy "$tmp/src/demo"
  check test "$(curl -sS "$API_URL/api/v1/packs/demo" -H "Authorization: Bearer $(token)" | jq -r '.data.version + " " + (.data.workflow_count|tostring)')" = "1.1.0 1"
  echo "=== a broken pack is refused before anything is sent"
  cp -r examples/packs/demo "$tmp/src/broken" && sed -i 's/^ref: demo/ref: broken/' "$tmp/src/broken/pack.yaml"
  check refuses deploy "$tmp/src/broken"
  check test "$(curl -sS -o /dev/null -w '%{http_code}' "$API_URL/api/v1/packs/broken" -H "Authorization: Bearer $(token)")" = 404
  echo "=== an archive the appliance refuses stops at the dry run"
  printf 'not an archive' >"$tmp/bad.tar.gz"
  check test "$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$API_URL/api/v1/packs/upload" -H "Authorization: Bearer $(token)" -F "pack=@$tmp/bad.tar.gz" -F dry_run=true)" = 400
  echo "deploy-pack self-test: $passed passed, $failed failed"
  [[ "$failed" == 0 ]]
}

case "${1:-}" in
  --self-test) self_test ;;
  ""|-h|--help) sed -n '2,13p' "$0"; exit 2 ;;
  *) deploy "$1" ;;
esac
