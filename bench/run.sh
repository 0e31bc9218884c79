#!/usr/bin/env bash
# bench/run.sh - wrk through nginx over HTTPS, same machine, one run:
#   static   nginx serving a file of the same size as the API answer
#   trivial  bench/trivial.c (a minimal libfcgi responder) behind an nginx
#            rendered from the same template as Emporium's
#   health   GET /api/v1/health through the real stack
# plus the workers' RSS before and after >= 100k requests. Writes the
# figures as ratios to bench/RESULTS.md (section "serving path").
#
#   bench/run.sh [DURATION_S]   (default 10; needs wrk: apt-get install wrk)
# BIN_DIR = a built tree (default build/bench, built with --enable-werror)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
. scripts/lib/deps.sh
. bench/lib.sh
dur=${1:-10}
conns=${BENCH_CONNECTIONS:-16}
command -v wrk >/dev/null || { echo "bench needs wrk (apt-get install wrk)"; exit 1; }
bin=${BIN_DIR:-$top/build/bench}
build_tree "$bin" --enable-werror
dir=$(mktemp -d /tmp/emporium-bench.XXXXXX)
trap 'scripts/lib/stack.sh stop "$dir/stack"; [ -f "$dir/trivial.pid" ] && kill "$(cat "$dir/trivial.pid")"; [ -f "$dir/twin/nginx.pid" ] && kill "$(cat "$dir/twin/nginx.pid")"; rm -rf "$dir"' EXIT

workers=$(nproc)
# static files from a directory of the bench's own, not the admin panel
mkdir -p "$dir/static"
STACK_ADMIN_ROOT="$dir/static" \
STACK_BIN_DIR="$bin" STACK_WORKERS="$workers" STACK_LOG_LEVEL=warn \
STACK_NGX_API_RATE=1000000r/s STACK_NGX_API_BURST=1000000 STACK_NGX_CONN_PER_IP=10000 \
	scripts/lib/stack.sh start "$dir/stack" >/dev/null
. "$dir/stack/stack.env"
# the static file: same body as /api/v1/health, from the same nginx
printf '{"status":"ok"}' > "$dir/static/bench.json"

# the trivial responder behind a twin nginx (same template, other socket)
cc -O2 -o "$dir/trivial" bench/trivial.c $(pkg-config --cflags --libs fcgi)
"$dir/trivial" "$dir/trivial.sock" "$workers" & echo $! > "$dir/trivial.pid"
mkdir -p "$dir/twin"
tport=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
(
	export NGX_PREFIX="$dir/twin" NGX_HTTPS_PORT="$tport" NGX_HTTP_PORT=$((tport + 1)) \
		NGX_UPSTREAMS="unix:$dir/trivial.sock" NGX_CERT="$STACK_CA" NGX_KEY="$dir/stack/tls/key.pem" \
		NGX_MEDIA_ROOT="$dir/stack/media" NGX_ADMIN_ROOT="$dir/static" \
		NGX_API_RATE=1000000r/s NGX_API_BURST=1000000 NGX_CONN_PER_IP=10000 \
		NGX_SITE_CONF="$dir/twin/conf/emporium.conf"
	nginx/render.sh --mode local --template nginx/emporium.conf.in --out "$dir/twin/conf/emporium.conf"
	nginx/render.sh --mode local --template nginx/local.conf.in --out "$dir/twin/conf/nginx.conf"
) >/dev/null
nginx -p "$dir/twin" -c "$dir/twin/conf/nginx.conf" -e "$dir/twin/logs/error.log" -g "pid $dir/twin/nginx.pid;" 2>/dev/null ||
	nginx -p "$dir/twin" -c "$dir/twin/conf/nginx.conf" -e "$dir/twin/logs/error.log"
sleep 1
[ -f "$dir/twin/nginx.pid" ] || cp "$dir/twin/logs/nginx.pid" "$dir/twin/nginx.pid" 2>/dev/null || true

rate() { # rate URL -> requests/s and total
	wrk -t2 -c"$conns" -d"${dur}s" "$1" 2>/dev/null | awk '/Requests\/sec/ {r=$2} /requests in/ {n=$1} END {print r, n}'
}
worker_rss() { # total RSS (kB) of the fcgi workers
	local m; m=$(cat "$dir/stack/run/fcgi.pid")
	for p in $(cat /proc/"$m"/task/"$m"/children); do awk '/VmRSS/ {print $2}' /proc/"$p"/status; done |
		awk '{s+=$1} END {print s+0}'
}
curl -sk -o /dev/null "$STACK_BASE/api/v1/health"
wrk -t2 -c"$conns" -d2s "$STACK_BASE/api/v1/health" >/dev/null 2>&1 # warm up
rss0=$(worker_rss)
read -r static_rps static_n < <(rate "$STACK_BASE/admin/bench.json")
read -r trivial_rps trivial_n < <(rate "https://127.0.0.1:$tport/api/v1/health")
read -r health_rps health_n < <(rate "$STACK_BASE/api/v1/health")
total=$health_n
while [ "$total" -lt 100000 ]; do
	read -r _ n < <(rate "$STACK_BASE/api/v1/health"); total=$((total + n))
done
rss1=$(worker_rss)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
report=$(cat <<TXT
## Serving path ($(date -u +%Y-%m-%d), $(nproc) cores, wrk -t2 -c$conns -d${dur}s over HTTPS, $workers FastCGI workers)

| target | req/s | vs static | vs trivial responder |
|---|---:|---:|---:|
| nginx static file (15 B) | $static_rps | 1.00 | |
| trivial libfcgi responder behind nginx | $trivial_rps | $(ratio "$trivial_rps" "$static_rps") | 1.00 |
| GET /api/v1/health | $health_rps | $(ratio "$health_rps" "$static_rps") | $(ratio "$health_rps" "$trivial_rps") |

Worker RSS (sum over $workers workers): $rss0 kB before, $rss1 kB after $total health requests.
TXT
)
bench_write_section "Serving path" "$report"
