#!/usr/bin/env bash
# bench/cart/run.sh - the cart, its summary, the orders and a checkout
# through nginx over HTTPS, in one run on this machine and in one table
# beside a product detail (cache miss), measured before and after them:
#   detail   GET /api/v1/products/men-tops-001 with "Cookie: bench=1" (any
#            cookie bypasses the micro-cache; the app ignores it)
#   cart     GET /api/v1/cart of a guest cart of 20 lines (20 products of
#            the demo catalog) with the FLAT200 coupon (X-Cart-Token header;
#            /api/v1/cart is never micro-cached)
#   summary  GET /api/v1/cart/summary?shipping_zone=inside_dhaka, same cart
#   order    GET /api/v1/orders/{id}: a signed-in customer's placed 3-line
#            order (bench/orders/reads_setup.js)
#   orders   GET /api/v1/orders: that customer's list
#   checkout POST /api/v1/orders of fresh 3-line carts (bench/orders/load.js
#            spread: CHECKOUTS of them, 8 in flight)
# Reports requests/s and CPU microseconds per answered request of the
# FastCGI pool, the database and nginx (a checkout: per placed order, pool
# and database only). Writes the section "Cart, orders and checkout beside
# a product read" of bench/RESULTS.md (other sections are kept).
#
#   bench/cart/run.sh [DURATION_S] [CHECKOUTS]   (default 8, 300)
# BIN_DIR = a built tree (default build/bench2, built with --enable-werror);
# BENCH_CONNECTIONS (default 16), BENCH_WORKERS (default: cores).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
. scripts/lib/deps.sh
. bench/lib.sh
dur=${1:-8}
checkouts=${2:-300}
conns=${BENCH_CONNECTIONS:-16}
command -v wrk >/dev/null || { echo "bench needs wrk (apt-get install wrk)"; exit 1; }
bin=${BIN_DIR:-$top/build/bench2}
build_tree "$bin" --enable-werror
[ -d tests/mongo-standin/node_modules ] || (cd tests/mongo-standin && npm ci --no-audit --no-fund --silent)
dir=$(mktemp -d /tmp/emporium-bench-cart.XXXXXX)
cleanup() {
	scripts/lib/stack.sh stop "$dir/stack" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT

workers=${BENCH_WORKERS:-$(nproc)}
db=emporium_bench_cart
STACK_BIN_DIR="$bin" STACK_WORKERS="$workers" STACK_LOG_LEVEL=warn STACK_DB_NAME=$db \
STACK_NGX_API_RATE=1000000r/s STACK_NGX_API_BURST=1000000 STACK_NGX_CONN_PER_IP=10000 \
	scripts/lib/stack.sh start "$dir/stack" >/dev/null 2>&1
. "$dir/stack/stack.env"
for c in seed-demo seed-demo-coupons; do
	EMPORIUM_ENV_FILE="$STACK_ENV_FILE" "$bin/emporium-admin" "$c" >>"$dir/seed.log" 2>&1 ||
		{ cat "$dir/seed.log"; exit 1; }
done

# a guest cart of 20 lines: one variant each of demo products that has the stock
skus=$(curl -sk "$STACK_BASE/api/v1/products?limit=60" -H 'Cookie: bench=1' |
	node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const p of JSON.parse(s).items)for(const v of p.variants)console.log(v.sku)})')
token="" lines=0
for s in $skus; do
	[ "$lines" = 20 ] && break
	hdr=(-H 'Content-Type: application/json')
	[ -n "$token" ] && hdr+=(-H "X-Cart-Token: $token")
	code=$(curl -sk -o "$dir/add.json" -w '%{http_code}' "${hdr[@]}" \
		-d "{\"sku\": \"$s\", \"quantity\": 2}" "$STACK_BASE/api/v1/cart/items")
	case $code in 200|201) lines=$((lines + 1)) ;; *) continue ;; esac
	[ -n "$token" ] || token=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).cart_token)' "$dir/add.json")
done
[ "$lines" = 20 ] || { echo "could not fill 20 lines ($lines)" >&2; exit 1; }
code=$(curl -sk -o "$dir/coupon.json" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
	-H "X-Cart-Token: $token" -d '{"code": "FLAT200"}' "$STACK_BASE/api/v1/cart/coupon")
[ "$code" = 200 ] || { echo "FLAT200 did not apply: $code $(cat "$dir/coupon.json")" >&2; exit 1; }
summary_path="/api/v1/cart/summary?shipping_zone=inside_dhaka"
detail_path="/api/v1/products/men-tops-001"
curl -sk -H "X-Cart-Token: $token" "$STACK_BASE$summary_path" > "$dir/summary.json"
node -e '
	const s = JSON.parse(require("fs").readFileSync(process.argv[1]));
	if (s.lines.length !== 20 || s.coupon.status !== "applied" || s.discount !== 20000)
		{ console.error("unexpected summary: lines", s.lines.length, "coupon", JSON.stringify(s.coupon), "discount", s.discount, "warnings", JSON.stringify(s.warnings).slice(0, 300)); process.exit(1); }' \
	"$dir/summary.json"
summary_bytes=$(stat -c %s "$dir/summary.json")
detail_bytes=$(curl -sk -H 'Cookie: bench=1' -o /dev/null -w '%{size_download}' "$STACK_BASE$detail_path")
cart_bytes=$(curl -sk -H "X-Cart-Token: $token" -o /dev/null -w '%{size_download}' "$STACK_BASE/api/v1/cart")
# a signed-in customer with a placed order (and a 5-line cart)
export STACK_BASE STACK_MONGODB_URI STACK_JWT_SECRET STACK_DIR BENCH_DB=$db BENCH_HZ=$(getconf CLK_TCK)
read -r ctok order_id < <(node bench/orders/reads_setup.js 5)
order_path="/api/v1/orders/$order_id"
order_bytes=$(curl -sk -H "Authorization: Bearer $ctok" -o /dev/null -w '%{size_download}' "$STACK_BASE$order_path")
orders_bytes=$(curl -sk -H "Authorization: Bearer $ctok" -o /dev/null -w '%{size_download}' "$STACK_BASE/api/v1/orders")

tck=$(getconf CLK_TCK)
cpu_ticks() { # cpu_ticks PIDFILE: CPU ticks of a process and its children
	local m; m=$(cat "$1")
	for p in "$m" $(cat /proc/"$m"/task/*/children 2>/dev/null); do
		awk '{print $14 + $15 + $16 + $17}' /proc/"$p"/stat 2>/dev/null
	done | awk '{s += $1} END {print s + 0}'
}
cpu_all() {
	echo "$(cpu_ticks "$dir/stack/run/mongo.pid") $(cpu_ticks "$dir/stack/run/fcgi.pid") $(cpu_ticks "$dir/stack/run/nginx.pid")"
}
# rate NAME URL HEADER -> "NAME rps requests non2xx db_us pool_us nginx_us" (CPU us per request)
rate() {
	local name=$1 url=$2 c0 c1
	c0=$(cpu_all)
	wrk -t2 -c"$conns" -d"${dur}s" --timeout 30s -H "$3" "$url" > "$dir/wrk.out" 2>&1 || true
	c1=$(cpu_all)
	awk -v name="$name" -v c0="$c0" -v c1="$c1" -v hz="$tck" '
		/Requests\/sec/ {r = $2} /requests in/ {t = $1} /Non-2xx/ {e = $NF}
		END {split(c0, a, " "); split(c1, b, " ")
		     printf "%s %s %d %d", name, r, t, e
		     for (i = 1; i <= 3; i++) printf " %.0f", (t > 0 ? (b[i] - a[i]) * 1e6 / hz / t : 0)
		     printf "\n"}' "$dir/wrk.out"
}
wrk -t2 -c"$conns" -d2s -H 'Cookie: bench=1' "$STACK_BASE$detail_path" >/dev/null 2>&1 # warm up
node bench/orders/load.js spread 40 8 >/dev/null # warm-up of the checkout path (not reported)
{
	rate detail_miss "$STACK_BASE$detail_path" "Cookie: bench=1"
	rate cart "$STACK_BASE/api/v1/cart" "X-Cart-Token: $token"
	rate summary "$STACK_BASE$summary_path" "X-Cart-Token: $token"
	rate order "$STACK_BASE$order_path" "Authorization: Bearer $ctok"
	rate orders "$STACK_BASE/api/v1/orders" "Authorization: Bearer $ctok"
	# "spread rps p50 p99 placed failed db_us pool_us" -> a rate line (no nginx figure)
	node bench/orders/load.js spread "$checkouts" 8 |
		awk '{print "checkout", $2, $5, $6, $7, $8, "-"}'
	rate detail_miss2 "$STACK_BASE$detail_path" "Cookie: bench=1"
} > "$dir/rates"
cat "$dir/rates" >&2
get() { awk -v k="$1" -v f="$2" '$1 == k {print $f}' "$dir/rates"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
detail_rps=$(awk -v a="$(get detail_miss 2)" -v b="$(get detail_miss2 2)" 'BEGIN {printf "%.2f", (a + b) / 2}')
detail_pool=$(awk -v a="$(get detail_miss 6)" -v b="$(get detail_miss2 6)" 'BEGIN {printf "%.0f", (a + b) / 2}')
row() { # row KEY LABEL BYTES
	echo "| $2 | $3 | $(get "$1" 2) | $(ratio "$(get "$1" 2)" "$detail_rps") | $(get "$1" 4) | $(get "$1" 5) | $(get "$1" 6) | $(get "$1" 7) | $(ratio "$(get "$1" 6)" "$detail_pool") |"
}
report=$(cat <<TXT
## Cart, orders and checkout beside a product read ($(date -u +%Y-%m-%d), $(nproc) cores, wrk -t2 -c$conns -d${dur}s over HTTPS, $workers FastCGI workers, mongo-standin)

One stack, one run, in this order: detail = \`GET $detail_path\` with \`Cookie: bench=1\`
(micro-cache bypassed), then the cart and the summary of a guest cart of 20 lines (2 each of 20
demo products) with FLAT200 (\`GET /api/v1/cart\`, \`GET $summary_path\`: a read of the cart, one
\`products\` query for the 20 SKUs, for the summary a coupon read and the pricing engine), a
signed-in customer's placed 3-line order and order list (\`GET /api/v1/orders/{id}\`,
\`GET /api/v1/orders\`), $checkouts checkouts (\`POST /api/v1/orders\`, cash on delivery, fresh
3-line carts of their own, 8 in flight: bench/orders/load.js spread; CPU per placed order, pool and
database only; "requests" = orders placed, non-2xx = not placed), and the detail again (the machine
is shared). CPU is microseconds per answered request, summed over the processes. "vs detail" is
against the mean of the two detail runs.

| run | body B | req/s | vs detail req/s | non-2xx | database us/req | FastCGI pool us/req | nginx us/req | vs detail pool CPU |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
$(row detail_miss "detail, cache miss (before)" "$detail_bytes")
$(row cart "cart, 20 lines + coupon" "$cart_bytes")
$(row summary "cart summary, 20 lines + coupon" "$summary_bytes")
$(row order "order, 3 lines" "$order_bytes")
$(row orders "order list (1 order)" "$orders_bytes")
$(row checkout "checkout, 3 lines (per order)" "")
$(row detail_miss2 "detail, cache miss (after)" "$detail_bytes")
TXT
)
bench_write_section "Cart, orders and checkout beside a product read" "$report"
