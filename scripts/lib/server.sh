# shellcheck shell=bash
# One way for the scripts to run an attune server: start it on port 0,
# read the address from its "listening on" line, log in, and stop it.
# Source it, then:
#
#   attune_start LOG BIN serve ARGS...   # ATTUNE_PID, ATTUNE_ADDR, ATTUNE_URL
#   TOKEN="$(attune_login PASSWORD [LOGIN])"
#   attune_stop                          # also safe in an EXIT trap
#
# `attune_start` adds `--port 0` unless ARGS has a --port, waits at most
# ATTUNE_START_TIMEOUT seconds (default 60) for the line, and fails with
# the server's log when the process exits first or never listens.
# Environment for the server (ATTUNE__ADMIN_PASSWORD, …) goes in ARGS
# through `env`, so it is plain which process gets it:
#   attune_start "$log" env ATTUNE__ADMIN_PASSWORD=x "$BIN" serve …

ATTUNE_PID=""
ATTUNE_ADDR=""
ATTUNE_URL=""

attune_start() {
    local log=$1
    shift
    local args=("$@") has_port=0 a
    for a in "${args[@]}"; do
        [[ $a == --port || $a == --port=* ]] && has_port=1
    done
    ((has_port)) || args+=(--port 0)
    # Emptied here, not only by the child's redirection: a log left by an
    # earlier server must not be read as this one's address.
    : >"$log"
    "${args[@]}" >>"$log" 2>&1 &
    ATTUNE_PID=$!
    ATTUNE_ADDR=""
    ATTUNE_URL=""
    local deadline=$((SECONDS + ${ATTUNE_START_TIMEOUT:-60})) line
    while ((SECONDS < deadline)); do
        line="$(grep -oE 'listening on https?://[0-9.]+:[0-9]+' "$log" 2>/dev/null | head -n1 || true)"
        if [[ -n $line ]]; then
            ATTUNE_URL="${line#listening on }"
            ATTUNE_ADDR="${ATTUNE_URL#*://}"
            return 0
        fi
        if ! kill -0 "$ATTUNE_PID" 2>/dev/null; then
            echo "attune_start: the server exited before listening:" >&2
            cat "$log" >&2
            ATTUNE_PID=""
            return 1
        fi
        sleep 0.1
    done
    echo "attune_start: no 'listening on' line within ${ATTUNE_START_TIMEOUT:-60} s:" >&2
    cat "$log" >&2
    attune_stop
    return 1
}

# Prints the access token of LOGIN (default admin); fails when login fails.
attune_login() {
    local password=$1 login=${2:-admin} body token
    body="$(curl -sk -X POST "$ATTUNE_URL/auth/login" -H 'Content-Type: application/json' \
        -d "{\"login\":\"$login\",\"password\":\"$password\"}")" || return 1
    token="$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$body")"
    if [[ -z $token ]]; then
        echo "attune_login: login as $login failed: $body" >&2
        return 1
    fi
    printf '%s\n' "$token"
}

# Stops the server started by attune_start (TERM, then waits).
attune_stop() {
    if [[ -n $ATTUNE_PID ]]; then
        kill "$ATTUNE_PID" 2>/dev/null || true
        wait "$ATTUNE_PID" 2>/dev/null || true
    fi
    ATTUNE_PID=""
}
