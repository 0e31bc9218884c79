#!/usr/bin/env bash
# bench/catalog/rss.sh - worker memory over a long run of product reads:
# the demo catalog, 2 FastCGI workers with recycling off
# (EMPORIUM_MAX_REQUESTS=0, so the same two processes serve every
# request: the default recycles a worker after 10000), and wrk sending
# cache-missing product details (Cookie: bench=1) and lists for DURATION_S
# seconds. Samples the workers' VmRSS every INTERVAL_S and checks their
# pids never change. Appends a "Worker memory" section to bench/RESULTS.md.
#
#   bench/catalog/rss.sh [DURATION_S] [INTERVAL_S]   (defaults 300 and 30)
# BIN_DIR = a built tree (default build/bench2, built with --enable-werror).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
. scripts/lib/deps.sh
. bench/lib.sh
dur=${1:-300}
step=${2:-30}
command -v wrk >/dev/null || { echo "bench needs wrk (apt-get install wrk)"; exit 1; }
bin=${BIN_DIR:-$top/build/bench2}
build_tree "$bin" --enable-werror
dir=$(mktemp -d /tmp/emporium-bench-rss.XXXXXX)
cleanup() {
	[ -f "$dir/wrk1.pid" ] && kill "$(cat "$dir/wrk1.pid")" 2>/dev/null
	[ -f "$dir/wrk2.pid" ] && kill "$(cat "$dir/wrk2.pid")" 2>/dev/null
	scripts/lib/stack.sh stop "$dir/stack" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT
STACK_BIN_DIR="$bin" STACK_WORKERS=2 STACK_LOG_LEVEL=warn \
STACK_NGX_API_RATE=1000000r/s STACK_NGX_API_BURST=1000000 STACK_NGX_CONN_PER_IP=10000 \
	scripts/lib/stack.sh start "$dir/stack" >/dev/null 2>&1
. "$dir/stack/stack.env"
EMPORIUM_ENV_FILE="$STACK_ENV_FILE" "$bin/emporium-admin" seed-demo >"$dir/seed.log" 2>&1 ||
	{ cat "$dir/seed.log"; exit 1; }
# recycling off: the master re-reads the env file on SIGHUP and replaces its workers
if grep -q '^EMPORIUM_MAX_REQUESTS=' "$STACK_ENV_FILE"; then
	sed -i 's/^EMPORIUM_MAX_REQUESTS=.*/EMPORIUM_MAX_REQUESTS=0/' "$STACK_ENV_FILE"
else
	echo 'EMPORIUM_MAX_REQUESTS=0' >> "$STACK_ENV_FILE"
fi
master=$(cat "$dir/stack/run/fcgi.pid")
old=$(cat /proc/"$master"/task/*/children | tr '\n' ' ')
kill -HUP "$master"
for _ in $(seq 100); do
	now=$(cat /proc/"$master"/task/*/children 2>/dev/null | tr '\n' ' ')
	n=0; for p in $now; do case " $old " in *" $p "*) ;; *) n=$((n + 1)) ;; esac; done
	[ "$n" -ge 2 ] && break; sleep 0.1
done
detail="$STACK_BASE/api/v1/products/men-tops-001"
list="$STACK_BASE/api/v1/products?category=men-tops&size=M&sort=price_asc"
curl -sk -o /dev/null -H 'Cookie: bench=1' "$detail"
pids() { cat /proc/"$master"/task/*/children 2>/dev/null | sort | tr '\n' ' '; }
rss() { for p in $(pids); do awk '/^VmRSS:/ {print $2}' /proc/"$p"/status; done | awk '{s += $1} END {print s + 0}'; }
sleep 1
p0=$(pids)
wrk -t2 -c8 -d5s -H 'Cookie: bench=1' "$detail" >/dev/null 2>&1 # warm: the first allocations
r0=$(rss)
wrk -t2 -c14 -d"${dur}s" --timeout 30s -H 'Cookie: bench=1' "$detail" >"$dir/wrk1.out" 2>&1 & echo $! > "$dir/wrk1.pid"
wrk -t1 -c2 -d"${dur}s" --timeout 30s -H 'Cookie: bench=1' "$list" >"$dir/wrk2.out" 2>&1 & echo $! > "$dir/wrk2.pid"
samples="| 0 | $r0 |"
t=0
while [ "$t" -lt "$dur" ]; do
	sleep "$step"; t=$((t + step))
	samples="$samples
| $t | $(rss) |"
done
wait "$(cat "$dir/wrk1.pid")" "$(cat "$dir/wrk2.pid")" 2>/dev/null || true
rm -f "$dir/wrk1.pid" "$dir/wrk2.pid"
r1=$(rss); p1=$(pids)
nd=$(awk '/requests in/ {print $1}' "$dir/wrk1.out"); nl=$(awk '/requests in/ {print $1}' "$dir/wrk2.out")
ed=$(awk '/Non-2xx/ {print $NF}' "$dir/wrk1.out"); el=$(awk '/Non-2xx/ {print $NF}' "$dir/wrk2.out")
same=$([ "$p0" = "$p1" ] && echo "the same two worker processes throughout (pids $p0)" || echo "**the workers changed** ($p0 -> $p1)")
change=$(awk -v a="$r0" -v b="$r1" 'BEGIN {printf "%+.1f%%", (b - a) * 100 / a}')
report=$(cat <<TXT
## Worker memory ($(date -u +%Y-%m-%d), $(nproc) cores, 2 FastCGI workers, EMPORIUM_MAX_REQUESTS=0, ${dur} s, mongo-standin, demo catalog)

$((nd + nl)) requests: $nd product details and $nl filtered lists, all cache misses (Cookie: bench=1),
non-2xx ${ed:-0} + ${el:-0}; $same. Worker RSS summed over the two, after a 5 s warm-up:
$r0 kB before, $r1 kB after ($change; target: flat within +-5%).

| seconds | worker RSS kB |
|---:|---:|
$samples
TXT
)
bench_write_section "Worker memory" "$report"
