#!/usr/bin/env bash
# Benchmark of `tidings proxy` against nginx as a caching reverse proxy, on loopback only.
#
#   bench/proxy.sh            # builds target/release/tidings if needed, prints figures
#   DUR=30s ROUNDS=5 BIN=/tmp/old-tidings bench/proxy.sh
#
# 1. Cache hits: wrk, 256 connections, 10 s, one 30 kB image already cached, through nginx
#    (proxy_cache) and through tidings proxy (signed URL). Throughput and p99 side by side,
#    ROUNDS times (default 3) alternating the two, with the load average before each run and
#    the CPU time each server spent per request (the machine may be shared: compare pairs).
# 2. Miss path: wrk, 1,000 connections, 10 s, a 5 MB image under a new URL on every request
#    (unsigned form with a counter in the query), so every request is an upstream fetch;
#    peak RSS of tidings proxy from /proc/PID/status (VmHWM). The default max_concurrent (64)
#    applies: requests beyond it wait up to 2 s for a slot, then get 429 (counted as non-2xx).
# The origin is a plain nginx server block serving generated files. Nothing leaves 127.0.0.1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DUR=${DUR:-10s}
ORIGIN_PORT=18081 NGINX_PORT=18082 PROXY_PORT=18083

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx; then
  echo "installing wrk and nginx…" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y wrk nginx-light >/dev/null
fi
# BIN=/path/to/tidings compares another build (e.g. an older one) under the same script.
BIN=${BIN:-$ROOT/target/release/tidings}
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release --bin tidings)

T=$(mktemp -d)
chmod 755 "$T"
cleanup() {
  [ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null || true
  [ -f "$T/nginx.pid" ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

# Images: a 30 kB JPEG-looking file for hits, a 5 MB one for the miss path.
mkdir -p "$T/www"
python3 - "$T/www" <<'PY'
import os, sys
d = sys.argv[1]
for name, size in [("small.jpg", 30_000), ("big.jpg", 5 * 1024 * 1024)]:
    with open(os.path.join(d, name), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(size - 11))
PY

cat > "$T/nginx.conf" <<NGINX
worker_processes auto;
pid $T/nginx.pid;
error_log $T/nginx-error.log;
user root;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  proxy_cache_path $T/ngcache levels=1:2 keys_zone=img:10m max_size=512m inactive=1d;
  proxy_temp_path $T/ngtmp;
  client_body_temp_path $T/ngbody;
  fastcgi_temp_path $T/ngfcgi;
  uwsgi_temp_path $T/nguwsgi;
  scgi_temp_path $T/ngscgi;
  server { listen 127.0.0.1:$ORIGIN_PORT; root $T/www; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://127.0.0.1:$ORIGIN_PORT;
      proxy_cache img;
      proxy_cache_valid 200 1d;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      add_header X-Content-Type-Options nosniff;
    }
  }
}
NGINX
nginx -c "$T/nginx.conf"

cat > "$T/tidings.toml" <<TOML
[proxy]
key = "bench-key"
addr = "127.0.0.1:$PROXY_PORT"
public_url = "http://127.0.0.1:$PROXY_PORT"
allow_private = ["127.0.0.1:$ORIGIN_PORT"]
allow_hosts = ["127.0.0.1"]
cache_dir = "cache"
cache_size = 268435456
rate_limit = 0
timeout = 60
TOML
"$BIN" -c "$T/tidings.toml" proxy 2>"$T/proxy.log" &
PROXY_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PROXY_PORT/healthz" >/dev/null && break; sleep 0.1; done

SIGNED=$("$BIN" -c "$T/tidings.toml" sign "http://127.0.0.1:$ORIGIN_PORT/small.jpg")
NGX="http://127.0.0.1:$NGINX_PORT/small.jpg"
curl -sf -o /dev/null "$SIGNED"; curl -sf -o /dev/null "$NGX"   # warm both caches
curl -sf -o /dev/null "$SIGNED"; curl -sf -o /dev/null "$NGX"

cpu_ticks() { # pids… -> utime+stime in clock ticks
  local s=0 p
  for p in "$@"; do s=$((s + $(awk '{print $14+$15}' "/proc/$p/stat"))); done
  echo "$s"
}
hit() { # name url pids…
  local name=$1 url=$2 out before after rps p99 n
  shift 2
  before=$(cpu_ticks "$@")
  out=$(wrk -t2 -c256 -d"$DUR" --latency "$url")
  after=$(cpu_ticks "$@")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  printf '%-8s %10s req/s   p99 %-9s %5.1f us CPU/request   (load %s)\n' "$name" "$rps" "$p99" \
    "$(python3 -c 'import sys; t, a, b, n = map(float, sys.argv[1:]); print((b - a) * 1e6 / t / n)' \
      "$(getconf CLK_TCK)" "$before" "$after" "$n")" \
    "$(cut -d' ' -f1 /proc/loadavg)"
  echo "$rps" >>"$T/rps-$name"
}
NGINX_WORKERS=$(pgrep -P "$(cat "$T/nginx.pid")" -f "worker process" | tr '\n' ' ')
echo "== cache hits: 30 kB image, 256 connections, $DUR, ${ROUNDS:-3} rounds =="
for _ in $(seq "${ROUNDS:-3}"); do
  # shellcheck disable=SC2086
  hit nginx "$NGX" $NGINX_WORKERS
  hit tidings "$SIGNED" "$PROXY_PID"
done
python3 - "$T/rps-nginx" "$T/rps-tidings" <<'PY'
import sys
a = [float(x) for x in open(sys.argv[1])]
b = [float(x) for x in open(sys.argv[2])]
pairs = ", ".join(f"{y / x:.2f}" for x, y in zip(a, b))
print(f"tidings/nginx per round: {pairs}; overall {sum(b) / sum(a):.2f}x  (target >= 0.80)")
PY

echo "== miss path: 5 MB image, new URL per request, 1000 connections, $DUR =="
cat > "$T/miss.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/?http://127.0.0.1:$ORIGIN_PORT/big.jpg?n=" .. math.random(1, 1000000000) .. "-" .. n)
end
LUA
wrk -t2 -c1000 -d"$DUR" --timeout 30s --latency -s "$T/miss.lua" "http://127.0.0.1:$PROXY_PORT" \
  | grep -E "Requests/sec|Transfer/sec|Non-2xx|Socket errors|99%|requests in"
grep -E "VmHWM|VmRSS" "/proc/$PROXY_PID/status" | sed 's/^/tidings proxy /'
echo "tidings proxy threads: $(ls "/proc/$PROXY_PID/task" | wc -l); load $(cut -d' ' -f1 /proc/loadavg)"
echo "(target: peak RSS < 150 MB)"
