#!/usr/bin/env bash
# The metrics layer's cost (issue 16): GET /api/v1/packs/demo under wrk
# (-t2 -c32, 8 s after a 2 s warm-up) with metrics off and on, alternated
# (ORDER="true false" to swap), 4 rounds; prints req/s and the server's CPU
# time per request (utime+stime from /proc), which moves less than req/s
# on a shared box. Usage: scripts/bench-metrics.sh (release binary built).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/server.sh
W=$(mktemp -d); mkdir -p $W/packs; cp -r examples/packs/demo $W/packs/
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' /proc/$ATTUNE_PID/stat; }
for round in 1 2 3 4; do
  for m in ${ORDER:-false true}; do
    rm -rf $W/data
    attune_start $W/log env ATTUNE__ADMIN_PASSWORD=pw-metrics-1 ATTUNE__METRICS__ENABLED=$m target/release/attune serve --packs-dir $W/packs --data-dir $W/data --register-packs || exit 1
    T=$(attune_login pw-metrics-1)
    wrk -t2 -c32 -d2s -H "Authorization: Bearer $T" "$ATTUNE_URL/api/v1/packs/demo" >/dev/null
    c0=$(cpu)
    out=$(wrk -t2 -c32 -d8s -H "Authorization: Bearer $T" "$ATTUNE_URL/api/v1/packs/demo")
    c1=$(cpu)
    n=$(awk '/requests in/ {print $1}' <<<"$out"); r=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    echo "round $round metrics=$m requests=$n req_s=$r server_cpu_us_per_req=$(awk -v a=$c0 -v b=$c1 -v n=$n -v t=$tick 'BEGIN{printf "%.2f", (b-a)/t*1e6/n}') load $(cut -d' ' -f1 /proc/loadavg)"
    attune_stop
  done
done
rm -rf $W
