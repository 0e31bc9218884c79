#!/usr/bin/env bash
# bench/orders/run.sh - checkouts (POST /api/v1/orders, cash on delivery)
# through nginx over HTTPS, one run on this machine, 3-line carts:
#   spread  every order on 3 SKUs of its own (no two orders meet)
#   hot     every order on one hot SKU (stock 1,000,000) + 2 SKUs of its
#           own: every placement writes the same product document
# wrk cannot give every request a fresh cart, so bench/orders/load.js plants
# the customers and carts first, then fires the checkouts (N of them, C in
# flight) and reads the CPU of the FastCGI pool and of the database from
# /proc around the firing only. Reports checkouts/s, p50/p99 and CPU
# microseconds per placed order; writes the section "Checkout" of
# bench/RESULTS.md (other sections are kept).
#
#   bench/orders/run.sh [N]   (default 300 checkouts per run)
# BIN_DIR = a built tree (default build/bench2, built with --enable-werror);
# BENCH_CONNECTIONS (default 8), BENCH_WORKERS (default 4).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
. scripts/lib/deps.sh
. bench/lib.sh
n=${1:-300}
conns=${BENCH_CONNECTIONS:-8}
bin=${BIN_DIR:-$top/build/bench2}
build_tree "$bin" --enable-werror
[ -d tests/mongo-standin/node_modules ] || (cd tests/mongo-standin && npm ci --no-audit --no-fund --silent)
dir=$(mktemp -d /tmp/emporium-bench-orders.XXXXXX)
cleanup() {
	scripts/lib/stack.sh stop "$dir/stack" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT

# more workers than cores: a checkout waits on the database for most of
# its time (a transaction of several round trips)
workers=${BENCH_WORKERS:-4}
db=emporium_bench_orders
STACK_BIN_DIR="$bin" STACK_WORKERS="$workers" STACK_LOG_LEVEL=warn STACK_DB_NAME=$db \
STACK_NGX_API_RATE=1000000r/s STACK_NGX_API_BURST=1000000 STACK_NGX_CONN_PER_IP=10000 \
	scripts/lib/stack.sh start "$dir/stack" >"$dir/start.log" 2>&1 || { cat "$dir/start.log"; exit 1; }
. "$dir/stack/stack.env"
export STACK_BASE STACK_MONGODB_URI STACK_JWT_SECRET STACK_DIR BENCH_DB=$db BENCH_HZ=$(getconf CLK_TCK)

# warm-up (not reported): every worker connected, TLS sessions up
node bench/orders/load.js spread 40 "$conns" >/dev/null
{
	node bench/orders/load.js spread "$n" "$conns"
	node bench/orders/load.js hot "$n" "$conns"
	node bench/orders/load.js spread "$n" "$conns" | sed 's/^spread/spread2/'
} > "$dir/rates"
cat "$dir/rates" >&2
get() { awk -v k="$1" -v f="$2" '$1 == k {print $f}' "$dir/rates"; }
mean() { awk -v a="$(get spread "$1")" -v b="$(get spread2 "$1")" 'BEGIN {printf "%.1f", (a + b) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
for k in spread hot spread2; do
	[ "$(get "$k" 6)" = 0 ] || echo "warning: $k: $(get "$k" 6) checkouts were not placed" >&2
done
row() { # row KEY LABEL
	echo "| $2 | $(get "$1" 2) | $(ratio "$(get "$1" 2)" "$(mean 2)") | $(get "$1" 3) | $(get "$1" 4) | $(get "$1" 5) | $(get "$1" 6) | $(get "$1" 7) | $(get "$1" 8) |"
}
report=$(cat <<TXT
## Checkout ($(date -u +%Y-%m-%d), $(nproc) cores, $n checkouts per run, $conns in flight over HTTPS (keep-alive), $workers FastCGI workers, mongo-standin)

A checkout = \`POST /api/v1/orders\` (cash on delivery, an Idempotency-Key each) of a fresh 3-line
cart, 1 unit per line: an order number from the counter (one \$inc, before the transaction since
26c65ae), then one transaction that reads the account, the address and the cart, prices it, decrements 3 variants' stock, inserts the order, clears the cart, enqueues
the confirmation mail and stores the idempotent response. spread: each order's 3 SKUs are its own;
hot: every order has the same hot SKU (plenty of stock) + 2 of its own, so placements conflict on
one product document and run again; spread ones share no document. The spread run is measured before and after the hot one:
the machine is shared, and the database grows with each run (the stand-in's CPU per order grows with
it), so the mean of the two is at the hot run's size; ratios are against that mean. CPU is microseconds per placed order, from
/proc of the database and of the FastCGI master + workers, over the checkouts only (the setup of
customers and carts and a warm-up run of 40 are not counted). Load: bench/orders/load.js (Node, on the same 2 cores).

| run | checkouts/s | vs spread | p50 ms | p99 ms | placed | not placed | database us/order | FastCGI pool us/order |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
$(row spread "spread, 3 own SKUs (before)")
$(row hot "hot SKU + 2 own SKUs")
$(row spread2 "spread, 3 own SKUs (after)")

Hot vs spread: checkouts/s $(ratio "$(get hot 2)" "$(mean 2)"), p99 $(ratio "$(get hot 4)" "$(mean 4)"), pool CPU per order $(ratio "$(get hot 8)" "$(mean 8)"), database CPU per order $(ratio "$(get hot 7)" "$(mean 7)").
TXT
)
bench_write_section "Checkout" "$report"
