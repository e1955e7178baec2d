#!/usr/bin/env bash
# Times `tidings sync` on a generated corpus served from loopback: a cold run (empty state)
# and a warm run (every feed answers 304), for each feed count given (default: 250 1000).
#
#   bench/sync.sh              # 250 and 1,000 feeds × 20 articles of ~10 KB
#   bench/sync.sh 100          # a quick look
#   BENCH_DIR=/tmp/b bench/sync.sh   # keep the corpora and outputs there
#
# Prints wall time, CPU time (user+sys), peak RSS and posts written per run. Needs GNU time
# (/usr/bin/time; `apt-get install time`).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

work=${BENCH_DIR:-$(mktemp -d /tmp/tidings-bench.XXXXXX)}
counts=("$@")
[ ${#counts[@]} -eq 0 ] && counts=(250 1000)

server_pid=
# Earlier outputs are moved aside and deleted at the end: ext4 avoids reusing inodes deleted
# in the last minute, and creating 20,000 posts right after deleting 20,000 spends seconds of
# kernel time searching for free ones, which no real first sync does.
trash=$work/.trash
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$trash"
}
trap cleanup EXIT



printf '%-6s %-5s %8s %8s %9s %7s  %s\n' feeds run wall_s cpu_s rss_MB posts summary
for n in "${counts[@]}"; do
    dir=$work/$n
    if [ -e "$dir" ]; then
        mkdir -p "$trash"
        mv "$dir" "$trash/$n.$$.$RANDOM"
    fi
    mkdir -p "$dir"
    "$server_bin" --feeds "$n" --config "$dir/tidings.toml" >"$dir/server.out" &
    server_pid=$!
    for _ in $(seq 600); do
        grep -q '^ready ' "$dir/server.out" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '^ready ' "$dir/server.out" || { echo "corpus server did not start" >&2; exit 1; }
    mb=$(awk '{ printf "%.0f", $3 / 1048576 }' "$dir/server.out")
    echo "# $n feeds, ${mb} MB of feeds, served at $(awk '{print $2}' "$dir/server.out")"
    for run in cold warm; do
        sync
        (cd "$dir" && /usr/bin/time -v -o "$dir/$run.time" "$tidings" sync >"$dir/$run.out" 2>"$dir/$run.err") || {
            echo "tidings sync failed ($run, $n feeds):" >&2
            cat "$dir/$run.err" >&2
            exit 1
        }
        wall=$(seconds "$(field 'Elapsed (wall clock)' "$dir/$run.time")")
        cpu=$(awk -v u="$(field 'User time' "$dir/$run.time")" -v s="$(field 'System time' "$dir/$run.time")" 'BEGIN { printf "%.2f", u + s }')
        rss=$(awk -v k="$(field 'Maximum resident set size' "$dir/$run.time")" 'BEGIN { printf "%.1f", k / 1024 }')
        posts=$(sed -n 's/.*posts: \([0-9]*\) new, \([0-9]*\) updated.*/\1/p' "$dir/$run.out")
        printf '%-6s %-5s %8s %8s %9s %7s  %s\n' "$n" "$run" "$wall" "$cpu" "$rss" "$posts" "$(cat "$dir/$run.out")"
    done
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
done
echo "# outputs in $work"
