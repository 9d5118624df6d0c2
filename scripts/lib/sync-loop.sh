# Sourced by scripts/bench.sh and scripts/bench-focus.sh (not run alone).
#
# sync_loop PACKS_DIR DIR_A DIR_B OUT: forever, every 3 s, replace pack
# `load` in PACKS_DIR by the other of its two generated versions
# (DIR_A/load, DIR_B/load: different seeds, so every sync validates and
# rewrites all of it) and sync it; appends "wall_ms registered unchanged"
# to OUT. Uses the caller's `api`, `now_ns` and `ms_since`. Run it in the
# background and kill it when done.
sync_loop() {
    local packs=$1 dir_a=$2 dir_b=$3 out=$4
    local src=$dir_a next=$dir_b t0 res
    while true; do
        rm -rf "$packs/load"
        cp -r "$src/load" "$packs/load"
        t0=$(now_ns)
        res=$(api POST /api/v1/packs/load/workflows/sync) || true
        echo "$(ms_since "$t0") $(jq -r '[.data.registered_count, .data.unchanged_count] | @tsv' <<<"$res" 2>/dev/null)" >>"$out"
        local swap=$src; src=$next; next=$swap
        sleep 3
    done
}
