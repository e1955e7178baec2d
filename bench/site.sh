#!/usr/bin/env bash
# Times `tidings build` (the built-in site) on a store of 10,000 articles synced from the
# generated corpus (500 feeds × 20 articles of ~10 KB, served on loopback by corpus-server):
#
#   cold         an empty output folder
#   nothing new  the same store again (must write nothing)
#   20 new       after a sync that added 20 articles (a new feed whose articles are as new as
#                the newest in the store), then nothing new once more
#
#   bench/site.sh                  # 3 rounds
#   ROUNDS=5 bench/site.sh
#   BENCH_DIR=/tmp/b bench/site.sh # work there (emptied first) and keep the results
#
# Prints wall time, CPU time (user + system), peak RSS, the load average before each run and
# the command's own summary. The machine may be shared: compare CPU time as well as wall time,
# and run when the load is low. Needs GNU time (/usr/bin/time; `apt-get install time`).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

work=${BENCH_DIR:-$(mktemp -d /tmp/tidings-site-bench.XXXXXX)}
rounds=${ROUNDS:-3}
mkdir -p "$work"
cd "$work"

# Old sites are moved aside and deleted at the end: ext4 avoids reusing inodes deleted in the
# last seconds, and a build right after deleting 22,000 files and folders spends seconds of
# kernel time searching for free ones, which no real first build does.
trash=$work/.trash
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$trash"
}
trap cleanup EXIT

# serve FEEDS CONFIG OUT: starts a corpus server, waits until it is ready.
serve() {
    "$server_bin" --feeds "$1" --config "$2" >"$3" &
    pids+=($!)
    for _ in $(seq 600); do
        grep -q '^ready ' "$3" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "corpus server did not start" >&2
    exit 1
}

sync_store() {
    "$tidings" -c tidings.toml sync >sync.out 2>sync.err || {
        echo "tidings sync failed:" >&2
        cat sync.err >&2
        exit 1
    }
    tail -1 sync.out
}

# build LABEL: one timed `tidings build`.
build() {
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -v -o build.time "$tidings" -c tidings.toml build >build.out 2>build.err || {
        echo "tidings build failed ($1):" >&2
        cat build.err >&2
        exit 1
    }
    local wall user sys rss
    wall=$(seconds "$(field 'Elapsed (wall clock)' build.time)")
    user=$(field 'User time' build.time)
    sys=$(field 'System time' build.time)
    rss=$(awk -v k="$(field 'Maximum resident set size' build.time)" 'BEGIN { printf "%.0f", k / 1024 }')
    printf '%-12s %6s %7s %6s %6s %7s  %s\n' "$1" "$load" "$wall" "$user" "$sys" "$rss" "$(cat build.out)"
}

mkdir -p "$trash"
for old in .tidings public ./*.toml ./*.out; do
    if [ -e "$old" ]; then mv "$old" "$trash/$(date +%s%N)-${old#./}"; fi
done
serve 500 tidings.toml server.out
# The corpus config publishes Hexo posts; the built-in site is the default format.
sed -i 's/^format = "hexo"/format = "html"/; /^dir = "source\/_posts"/d' tidings.toml
echo "# store: $(sync_store)"
echo "# $(nproc) cores, $(grep -c '^\[\[feed\]\]' tidings.toml) feeds, store $(du -m .tidings/tidings.db | cut -f1) MB, in $work"
printf '%-12s %6s %7s %6s %6s %7s  %s\n' run load wall_s user_s sys_s rss_MB summary
for r in $(seq "$rounds"); do
    if [ -e public ]; then mv public "$trash/public-$r"; fi
    sync
    build cold
    build "nothing new"
    # Twenty more articles: a one-feed corpus on a new port (new feed URL, so new article
    # ids), dated like the newest feed of the store, in an existing category.
    serve 1 "extra-$r.toml" "extra-$r.out"
    url=$(sed -n 's|^url = "\(.*\)"|\1|p' "extra-$r.toml" | head -1)
    printf '\n[[feed]]\nname = "bench-new-%s"\nurl = "%s"\ncategories = ["基准", "频道0"]\n' \
        "$r" "$url" >>tidings.toml
    echo "# sync: $(sync_store)"
    build "20 new"
    build "nothing new"
done
# What a build reads and writes besides the pages: the manifest, the recorded article texts
# (one file per shard of 1,000 articles), the search index and sitemap shards.
kb() { du -ck "$@" 2>/dev/null | tail -1 | cut -f1; }
echo "# manifest $(kb public/.tidings-build.json) kB;" \
    "texts $(kb public/.tidings-texts/*) kB in $(find public/.tidings-texts -type f | wc -l) files;" \
    "search $(kb public/search.json public/search/*.json) kB in $(find public/search -name '*.json' | wc -l) shards;" \
    "sitemap $(kb public/sitemap.xml public/sitemap/*) kB"
