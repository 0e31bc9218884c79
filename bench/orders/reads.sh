#!/usr/bin/env bash
# bench/orders/reads.sh - the customer's reads of the cart and of an order,
# A/B: two built trees side by side on one machine, each behind a stack of
# its own (nginx over HTTPS, FastCGI pool, mongo-standin, the same data),
# measured in turns (A B, then B A, ...) so that the load of a shared
# machine falls on both alike:
#   cart     GET /api/v1/cart (LINES lines + a coupon, signed in)
#   summary  GET /api/v1/cart/summary?shipping_zone=inside_dhaka (the same cart)
#   order    GET /api/v1/orders/{id} (a placed 3-line order with a coupon)
#   orders   GET /api/v1/orders (the customer's list: that one order)
# Reports requests/s and the FastCGI pool's CPU microseconds per answered
# request (master + workers, from /proc), each round's and their mean, and
# B/A; writes the section "Cart and order reads A/B" of bench/RESULTS.md.
#
#   bench/orders/reads.sh BIN_A BIN_B [DURATION_S] [ROUNDS]   (default 5, 3)
# BIN_A, BIN_B: built trees (emporium-fcgi, emporium-admin). BENCH_LABEL_A,
# BENCH_LABEL_B name them in the table; BENCH_CONNECTIONS (default 16),
# BENCH_WORKERS (default: cores), BENCH_LINES (default 5).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
. bench/lib.sh
[ $# -ge 2 ] || { sed -n '2,20p' "$0"; exit 2; }
bin_a=$(cd "$1" && pwd) bin_b=$(cd "$2" && pwd)
dur=${3:-5} rounds=${4:-3}
conns=${BENCH_CONNECTIONS:-16} lines=${BENCH_LINES:-5}
workers=${BENCH_WORKERS:-$(nproc)}
label_a=${BENCH_LABEL_A:-A} label_b=${BENCH_LABEL_B:-B}
command -v wrk >/dev/null || { echo "bench needs wrk (apt-get install wrk)"; exit 1; }
for b in "$bin_a" "$bin_b"; do
	[ -x "$b/emporium-fcgi" ] && [ -x "$b/emporium-admin" ] || { echo "$b: not a built tree"; exit 1; }
done
[ -d tests/mongo-standin/node_modules ] || (cd tests/mongo-standin && npm ci --no-audit --no-fund --silent)
dir=$(mktemp -d /tmp/emporium-bench-reads.XXXXXX)
cleanup() {
	scripts/lib/stack.sh stop "$dir/a" >/dev/null 2>&1 || true
	scripts/lib/stack.sh stop "$dir/b" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

# start SIDE BIN: a stack, the demo catalog and coupons, the customer's data
start() {
	local side=$1 bin=$2 db=emporium_bench_reads_$1
	STACK_BIN_DIR="$bin" STACK_WORKERS="$workers" STACK_LOG_LEVEL=warn STACK_DB_NAME=$db \
	STACK_NGX_API_RATE=1000000r/s STACK_NGX_API_BURST=1000000 STACK_NGX_CONN_PER_IP=10000 \
		scripts/lib/stack.sh start "$dir/$side" >"$dir/$side.log" 2>&1 || { cat "$dir/$side.log"; exit 1; }
	(
		. "$dir/$side/stack.env"
		for c in seed-demo seed-demo-coupons; do
			EMPORIUM_ENV_FILE="$STACK_ENV_FILE" "$bin/emporium-admin" "$c" >>"$dir/$side.seed.log" 2>&1 ||
				{ cat "$dir/$side.seed.log"; exit 1; }
		done
		export STACK_BASE STACK_MONGODB_URI STACK_JWT_SECRET BENCH_DB=$db
		node bench/orders/reads_setup.js "$lines" > "$dir/$side.data"
		echo "$STACK_BASE" > "$dir/$side.base"
	)
}
start a "$bin_a"
start b "$bin_b"

tck=$(getconf CLK_TCK)
pool_ticks() { # the FastCGI master's and its children's CPU ticks (+ reaped children)
	local m; m=$(cat "$dir/$1/run/fcgi.pid")
	for p in "$m" $(cat /proc/"$m"/task/*/children 2>/dev/null); do
		awk '{print $14 + $15 + $16 + $17}' /proc/"$p"/stat 2>/dev/null
	done | awk '{s += $1} END {print s + 0}'
}
# rate SIDE NAME PATH -> "SIDE NAME rps requests non2xx pool_us" (CPU us per request)
rate() {
	local side=$1 name=$2 base tok c0 c1
	base=$(cat "$dir/$side.base")
	tok=$(cut -d' ' -f1 "$dir/$side.data")
	c0=$(pool_ticks "$side")
	wrk -t2 -c"$conns" -d"${dur}s" --timeout 30s -H "Authorization: Bearer $tok" "$base$3" \
		> "$dir/wrk.out" 2>&1 || true
	c1=$(pool_ticks "$side")
	awk -v side="$side" -v name="$name" -v c0="$c0" -v c1="$c1" -v hz="$tck" '
		/Requests\/sec/ {r = $2} /requests in/ {t = $1} /Non-2xx/ {e = $NF}
		END {printf "%s %s %s %d %d %.1f\n", side, name, r, t, e, (t > 0 ? (c1 - c0) * 1e6 / hz / t : 0)}' \
		"$dir/wrk.out"
}
path_of() { # path_of SIDE NAME
	local id; id=$(cut -d' ' -f2 "$dir/$1.data")
	case $2 in
	cart) echo /api/v1/cart ;;
	summary) echo "/api/v1/cart/summary?shipping_zone=inside_dhaka" ;;
	order) echo "/api/v1/orders/$id" ;;
	orders) echo /api/v1/orders ;;
	esac
}
names="cart summary order orders"
# the bodies both sides answer, for the record (sizes; the data differ in ids only)
for n in $names; do
	for s in a b; do
		curl -sk -H "Authorization: Bearer $(cut -d' ' -f1 "$dir/$s.data")" \
			-o "$dir/$s.$n.json" "$(cat "$dir/$s.base")$(path_of "$s" "$n")"
	done
done
for s in a b; do # warm-up: every worker connected, TLS sessions up
	wrk -t2 -c"$conns" -d2s -H "Authorization: Bearer $(cut -d' ' -f1 "$dir/$s.data")" \
		"$(cat "$dir/$s.base")$(path_of "$s" cart)" >/dev/null 2>&1
done
: > "$dir/rates"
for r in $(seq 1 "$rounds"); do
	for n in $names; do
		if [ $((r % 2)) = 1 ]; then order_="a b"; else order_="b a"; fi
		for s in $order_; do
			rate "$s" "$n" "$(path_of "$s" "$n")" | sed "s/^/$r /" | tee -a "$dir/rates" >&2
		done
	done
done
# round side name rps requests non2xx pool_us
mean() { awk -v s="$1" -v n="$2" -v f="$3" '$2 == s && $3 == n {t += $f; k++} END {printf "%.1f", k ? t / k : 0}' "$dir/rates"; }
each() { awk -v s="$1" -v n="$2" -v f="$3" '$2 == s && $3 == n {printf "%s%.0f", (k++ ? "/" : ""), $f}' "$dir/rates"; }
sum() { awk -v n="$1" -v f="$2" '$3 == n {t += $f} END {print t + 0}' "$dir/rates"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
rows=""
for n in $names; do
	pa=$(mean a "$n" 7) pb=$(mean b "$n" 7) ra=$(mean a "$n" 4) rb=$(mean b "$n" 4)
	rows+="| $n \`$(path_of a "$n" | sed 's/[0-9a-f]\{24\}/{id}/')\` | $(stat -c %s "$dir/a.$n.json") / $(stat -c %s "$dir/b.$n.json") | $(each a "$n" 7) | $pa | $(each b "$n" 7) | $pb | $(ratio "$pb" "$pa") | $ra | $rb | $(ratio "$rb" "$ra") |"$'\n'
done
report=$(cat <<TXT
## Cart and order reads A/B ($(date -u +%Y-%m-%d), $(nproc) cores, wrk -t2 -c$conns -d${dur}s over HTTPS, $workers FastCGI workers each, mongo-standin, $rounds rounds)

A = $label_a, B = $label_b: two stacks side by side, the same data (the demo catalog; a customer with a
placed 3-line COD order with FLAT200 and a cart of $lines lines with FLAT200), measured in turns (A then B
in odd rounds, B then A in even ones; the machine is shared, so a burst of other load falls on both).
Pool CPU is the FastCGI master + workers' microseconds per answered request (each round's, then the
mean); non-2xx over all runs: $(sum cart 6)/$(sum summary 6)/$(sum order 6)/$(sum orders 6) (cart/summary/order/orders).

| read | body bytes A / B | pool us/req A (rounds) | A mean | pool us/req B (rounds) | B mean | B/A CPU | req/s A | req/s B | B/A req/s |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
$rows
TXT
)
bench_write_section "Cart and order reads A/B" "$report"
