#!/usr/bin/env bash
# Supply-chain checks with cargo-deny (installed with cargo install if
# missing): licenses, bans (wildcards, duplicates as warnings), sources
# (crates.io only), and security advisories from the RustSec database.
#
# The advisory database is a git repository fetched from GitHub. Where it
# cannot be fetched (an air-gapped build machine) and no copy is cached in
# ~/.cargo/advisory-dbs, the advisories check is reported as skipped;
# AUDIT_REQUIRE_ADVISORIES=1 makes that a failure. Ignored advisories are
# listed by id in deny.toml and explained in docs/SECURITY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo-deny >/dev/null 2>&1 || cargo install cargo-deny --locked

echo "--- cargo deny check licenses bans sources"
cargo deny --log-level error check licenses bans sources

echo "--- cargo deny check advisories"
if cargo deny --log-level error fetch db >/dev/null 2>&1; then
    cargo deny --log-level error check advisories
elif compgen -G "$HOME/.cargo/advisory-dbs/*/crates" >/dev/null; then
    echo "advisory database unreachable; using the cached copy"
    cargo deny --log-level error check --disable-fetch advisories
else
    echo "advisories: SKIPPED: the RustSec advisory database cannot be fetched here and no copy is cached" >&2
    echo "            (run scripts/audit.sh on a machine with network access, or copy the database to ~/.cargo/advisory-dbs)" >&2
    [ "${AUDIT_REQUIRE_ADVISORIES:-0}" = 1 ] && exit 1
fi
echo "audit: ok"
