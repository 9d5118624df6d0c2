#!/usr/bin/env bash
# Install the .deb built by scripts/package.sh on this machine and check it:
# files land where docs/OPERATIONS.md says with the documented owners and
# modes, the binary runs, the packaged config starts the installed binary as
# the service user against a temporary data dir and it answers /health, the
# database commands work (in-use message, backup, restore), a changed config
# survives a reinstall, and purge removes the user but keeps the packs.
# Run as root (CI does, after scripts/package.sh). Leaves the package purged.
set -euo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
contains() { grep -q -- "$2" <<<"$1"; } # contains TEXT PATTERN
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok   $what"
  else
    failed=$((failed + 1)); echo "FAIL $what" >&2
  fi
}

[ "$(id -u)" = 0 ] || { echo "package-check: run as root" >&2; exit 2; }
deb=$(ls dist/attune_*.deb 2>/dev/null | head -n1 || true)
[ -n "$deb" ] || { echo "package-check: no dist/attune_*.deb; run scripts/package.sh first" >&2; exit 2; }
deb=$(readlink -f "$deb")
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

echo "--- dpkg -i $deb"
if ! dpkg -i "$deb"; then
  # a missing dependency (adduser on a minimal image): let apt fetch it
  DEBIAN_FRONTEND=noninteractive apt-get install -y -f
fi
check "package is installed" dpkg-query -W attune

unit=""
for u in /lib/systemd/system/attune.service /usr/lib/systemd/system/attune.service; do
  [ -f "$u" ] && unit=$u
done
check "unit installed" test -n "$unit"
for f in /usr/bin/attune /etc/attune/config.yaml /usr/share/doc/attune/README.md \
         /usr/share/doc/attune/OPERATIONS.md /opt/attune/packs/README.txt; do
  check "$f exists" test -f "$f"
done
check "/opt/attune/packs is a directory" test -d /opt/attune/packs
check "user attune exists" getent passwd attune
check "user attune has no login shell" \
  sh -c 'getent passwd attune | grep -q ":/usr/sbin/nologin$"'
check "/var/lib/attune is attune:attune 750" \
  test "$(stat -c '%U:%G %a' /var/lib/attune)" = "attune:attune 750"
check "config is root:attune 640" \
  test "$(stat -c '%U:%G %a' /etc/attune/config.yaml)" = "root:attune 640"
check "config is a conffile" \
  sh -c "dpkg-query -W -f='\${Conffiles}' attune | grep -q /etc/attune/config.yaml"
check "attune --version prints $version" \
  sh -c "/usr/bin/attune --version | grep -qx 'attune $version'"
if command -v systemd-analyze >/dev/null 2>&1; then
  check "systemd-analyze verify $unit" systemd-analyze verify "$unit"
else
  echo "skip systemd-analyze verify (not installed)"
fi

# Run the installed binary as the service user with the packaged config,
# on a temporary data dir and a free port.
work=$(mktemp -d)
chmod 755 "$work"
data="$work/data"
install -d -o attune -g attune -m 0750 "$data"
log="$work/serve.log"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  cd /
  rm -rf "$work"
}
trap cleanup EXIT
as_attune() {
  runuser -u attune -- env ATTUNE_CONFIG=/etc/attune/config.yaml ATTUNE__DATA_DIR="$data" "$@"
}
start_server() {
  : >"$log"
  runuser -u attune -- env ATTUNE__ADMIN_PASSWORD=package-check-pw \
    ATTUNE__DATA_DIR="$data" ATTUNE__SERVER__PORT=0 \
    /usr/bin/attune serve --config /etc/attune/config.yaml >"$log" 2>&1 &
  pid=$!
  addr=""
  for _ in $(seq 1 300); do
    addr=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n1 || true)
    [ -n "$addr" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "package-check: the installed attune did not start:" >&2
  cat "$log" >&2
  return 1
}
stop_server() {
  kill -TERM "$pid" && wait "$pid" || true
  pid=""
}
http_get() { # http_get URL: body on stdout (curl, or bash's /dev/tcp)
  if command -v curl >/dev/null 2>&1; then
    curl -fsS "$1"
  else
    local hostport=${1#http://}; hostport=${hostport%%/*}
    local path=/${1#http://*/}
    exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}"
    printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" >&3
    sed '1,/^\r$/d' <&3
    exec 3<&-
  fi
}

echo "--- installed binary, packaged config, temporary data dir"
cd "$work"   # no project files beside the running binary
start_server
health=$(http_get "$addr/health")
echo "$health"
check "/health answers status ok" contains "$health" '"status":"ok"'
# everything is inside the one binary: UI, OpenAPI, JSON Schema
check "the web UI is embedded" contains "$(http_get "$addr/")" "<html"
check "the OpenAPI document is embedded" contains "$(http_get "$addr/api/openapi.json")" '"openapi"'
check "the workflow JSON Schema is embedded" contains "$(/usr/bin/attune schema)" '"$schema"'
check "database owned by attune" test "$(stat -c %U "$data/attune.redb")" = attune
out=$(as_attune /usr/bin/attune user list 2>&1 || true)
check "user list while serving says the database is in use" \
  contains "$out" "in use by a running attune server"
out=$(as_attune /usr/bin/attune backup --out "$work/b.redb" 2>&1 || true)
check "backup while serving points to the API" contains "$out" "/api/v1/admin/backup"
stop_server
check "server stopped cleanly" grep -q "shut down cleanly" "$log"

echo "--- offline commands as the service user"
# the built-in core action catalog is inside the binary too
mkdir -p "$work/packs/demo/workflows"
printf 'version: "1.0.0"\nlabel: Demo\ntasks:\n  - name: hello\n    action: core.echo\n    input:\n      message: hi\n' \
  >"$work/packs/demo/workflows/hello.yaml"
chmod -R a+rX "$work/packs"
check "attune validate knows core.echo with no core pack on disk" \
  runuser -u attune -- /usr/bin/attune validate "$work/packs/demo"
chown attune:attune "$work"
check "user list shows admin" contains "$(as_attune /usr/bin/attune user list)" admin
check "backup --out" as_attune /usr/bin/attune backup --out "$work/b.redb"
check "restore" as_attune /usr/bin/attune restore "$work/b.redb"
check "restore kept the previous database" test -f "$data/attune.redb.bak"
start_server
check "/health after restore" contains "$(http_get "$addr/health")" '"status":"ok"'
stop_server

echo "--- a changed config survives a reinstall"
echo "# local change by package-check" >>/etc/attune/config.yaml
dpkg -i --force-confold "$deb" >/dev/null
check "changed config kept" grep -q "local change by package-check" /etc/attune/config.yaml

echo "--- purge"
mkdir -p /opt/attune/packs/mine
dpkg --purge attune >/dev/null
check "binary removed" test ! -e /usr/bin/attune
check "user removed" sh -c '! getent passwd attune >/dev/null'
check "database folder removed" test ! -e /var/lib/attune
check "operator packs kept" test -d /opt/attune/packs/mine
rm -rf /opt/attune/packs/mine

echo "package-check: $passed passed, $failed failed"
[ "$failed" = 0 ]
