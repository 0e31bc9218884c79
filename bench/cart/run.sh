#!/usr/bin/env bash
# bench/cart/run.sh - the order summary through nginx over HTTPS, one run on
# this machine, beside product detail (cache miss) in the same run:
#   summary  GET /api/v1/cart/summary?shipping_zone=inside_dhaka for a guest
#            cart of 20 lines (20 products of the demo catalog) with the
#            FLAT200 coupon applied (X-Cart-Token header; /api/v1/cart is
#            never micro-cached)
#   detail   GET /api/v1/products/men-tops-001 with "Cookie: bench=1" (any
#            cookie bypasses the micro-cache; the app ignores it)
# Reports requests/s and CPU microseconds per answered request of the
# FastCGI pool, the database and nginx. Writes the section "Cart summary"
# of bench/RESULTS.md (other sections are kept).
#
#   bench/cart/run.sh [DURATION_S]   (default 8)
# BIN_DIR = a built tree (default build/bench2, built with --enable-werror);
# BENCH_CONNECTIONS (default 16), BENCH_WORKERS (default: cores).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
. scripts/lib/deps.sh
. bench/lib.sh
dur=${1:-8}
conns=${BENCH_CONNECTIONS:-16}
command -v wrk >/dev/null || { echo "bench needs wrk (apt-get install wrk)"; exit 1; }
bin=${BIN_DIR:-$top/build/bench2}
build_tree "$bin" --enable-werror
dir=$(mktemp -d /tmp/emporium-bench-cart.XXXXXX)
cleanup() {
	scripts/lib/stack.sh stop "$dir/stack" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT

workers=${BENCH_WORKERS:-$(nproc)}
STACK_BIN_DIR="$bin" STACK_WORKERS="$workers" STACK_LOG_LEVEL=warn \
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
{
	rate detail_miss "$STACK_BASE$detail_path" "Cookie: bench=1"
	rate summary "$STACK_BASE$summary_path" "X-Cart-Token: $token"
	rate detail_miss2 "$STACK_BASE$detail_path" "Cookie: bench=1"
} > "$dir/rates"
cat "$dir/rates" >&2
get() { awk -v k="$1" -v f="$2" '$1 == k {print $f}' "$dir/rates"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
detail_rps=$(awk -v a="$(get detail_miss 2)" -v b="$(get detail_miss2 2)" 'BEGIN {printf "%.2f", (a + b) / 2}')
detail_pool=$(awk -v a="$(get detail_miss 6)" -v b="$(get detail_miss2 6)" 'BEGIN {printf "%.0f", (a + b) / 2}')
report=$(cat <<TXT
## Cart summary ($(date -u +%Y-%m-%d), $(nproc) cores, wrk -t2 -c$conns -d${dur}s over HTTPS, $workers FastCGI workers, mongo-standin)

summary = \`GET $summary_path\` for a guest cart of 20 lines (2 each of 20 demo products) with
FLAT200 applied ($summary_bytes B): per request one read of the cart, one \`products\` query for the
20 SKUs, one coupon read, the pricing engine, the JSON. detail = \`GET $detail_path\` with
\`Cookie: bench=1\` (micro-cache bypassed; $detail_bytes B), measured before and after the summary
(the machine is shared). CPU is microseconds per answered request, summed over the processes.

| run | req/s | vs detail miss | non-2xx | database us/req | FastCGI pool us/req | nginx us/req |
|---|---:|---:|---:|---:|---:|---:|
| detail, cache miss (before) | $(get detail_miss 2) | | $(get detail_miss 4) | $(get detail_miss 5) | $(get detail_miss 6) | $(get detail_miss 7) |
| cart summary, 20 lines + coupon | $(get summary 2) | $(ratio "$(get summary 2)" "$detail_rps") | $(get summary 4) | $(get summary 5) | $(get summary 6) | $(get summary 7) |
| detail, cache miss (after) | $(get detail_miss2 2) | | $(get detail_miss2 4) | $(get detail_miss2 5) | $(get detail_miss2 6) | $(get detail_miss2 7) |

Pool CPU per summary vs per detail: $(ratio "$(get summary 6)" "$detail_pool") (detail: mean of the two runs).
TXT
)
bench_write_section "Cart summary" "$report"
