#!/usr/bin/env bash
# Install the built .deb into this machine and check it: files where
# docs/OPERATIONS.md says, the binary runs, the packaged config starts a
# server (against a temporary data dir) that answers /health.
# Run as root after scripts/package.sh (CI does both).
set -euo pipefail
cd "$(dirname "$0")/.."

deb=$(ls dist/attune_*.deb | head -n1)
dpkg -i "$deb"

for f in /usr/bin/attune /etc/attune/config.yaml /lib/systemd/system/attune.service \
         /usr/share/doc/attune/README.md /opt/attune/packs; do
  test -e "$f" || { echo "package-check: missing $f" >&2; exit 1; }
done
getent passwd attune >/dev/null || { echo "package-check: user attune not created" >&2; exit 1; }
test -d /var/lib/attune || { echo "package-check: /var/lib/attune not created" >&2; exit 1; }
/usr/bin/attune --version

if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify /lib/systemd/system/attune.service
fi

data=$(mktemp -d)
log=$(mktemp)
ATTUNE__ADMIN_PASSWORD=package-check-pw ATTUNE__DATA_DIR="$data" ATTUNE__SERVER__PORT=0 \
  /usr/bin/attune serve --config /etc/attune/config.yaml >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$data" "$log"' EXIT
addr=""
for _ in $(seq 1 100); do
  addr=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n1 || true)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "package-check: server did not start" >&2; cat "$log" >&2; exit 1; }
curl -fsS "$addr/health"
echo
echo "package-check: 1 passed, 0 failed"
