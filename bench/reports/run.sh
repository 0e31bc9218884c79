#!/usr/bin/env bash
# bench/reports/run.sh - the 30-day sales report and the admin dashboard
# over N orders (default 100,000; 90 % paid, spread over the last 365
# days), through nginx over HTTPS, one run on this machine. Reports the
# response time (p50 and max of K sequential requests after one not
# counted), the CPU microseconds per request of the database (mongo-standin)
# and of the FastCGI pool from /proc, and the documents and index keys the
# database examined per request (the stand-in's plan log: each pipeline's
# leading $match and each count). Writes the section "Reports" of
# bench/RESULTS.md (other sections are kept).
#
#   bench/reports/run.sh [N] [K]   (defaults 100000 orders, 5 requests)
# BIN_DIR = a built tree (default build/bench-reports, --enable-werror).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
. scripts/lib/deps.sh
. bench/lib.sh
n=${1:-100000}
k=${2:-5}
bin=${BIN_DIR:-$top/build/bench-reports}
build_tree "$bin" --enable-werror
[ -d tests/mongo-standin/node_modules ] || (cd tests/mongo-standin && npm ci --no-audit --no-fund --silent)
dir=$(mktemp -d /tmp/emporium-bench-reports.XXXXXX)
cleanup() {
	scripts/lib/stack.sh stop "$dir/stack" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT

db=emporium_bench_reports
# the stand-in is far slower than mongod and pauses while it saves its data:
# the pipelines' bound goes up to just under the request timeout (30 s)
STACK_ENV_EXTRA="EMPORIUM_REPORT_MAX_TIME_MS=25000" STACK_BIN_DIR="$bin" STACK_WORKERS=2 STACK_LOG_LEVEL=warn STACK_DB_NAME=$db \
STACK_NGX_API_RATE=1000000r/s STACK_NGX_API_BURST=1000000 \
	scripts/lib/stack.sh start "$dir/stack" >"$dir/start.log" 2>&1 || { cat "$dir/start.log"; exit 1; }
. "$dir/stack/stack.env"
export STACK_BASE STACK_MONGODB_URI STACK_JWT_SECRET STACK_DIR BENCH_DB=$db BENCH_HZ=$(getconf CLK_TCK)

t0=$(date +%s)
node bench/reports/load.js seed "$n" >&2
echo "seeded in $(( $(date +%s) - t0 )) s" >&2
node bench/reports/load.js idle >&2
load0=$(cut -d' ' -f1 /proc/loadavg)
{
	node bench/reports/load.js measure sales30 "/api/v1/admin/reports/sales" "$k"
	node bench/reports/load.js measure sales30week "/api/v1/admin/reports/sales?interval=week" "$k"
	node bench/reports/load.js measure dashboard "/api/v1/admin/dashboard" "$k"
	node bench/reports/load.js measure stock "/api/v1/admin/reports/stock?limit=100" "$k"
} > "$dir/rates"
load1=$(cut -d' ' -f1 /proc/loadavg)
cat "$dir/rates" >&2
get() { awk -v k="$1" -v f="$2" '$1 == k {print $f}' "$dir/rates"; }
row() { # row KEY LABEL
	echo "| $2 | $(get "$1" 2) | $(get "$1" 3) | $(get "$1" 4) | $(get "$1" 5) | $(get "$1" 6) | $(get "$1" 7) | $(get "$1" 8) | $(get "$1" 10) |"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", (b > 0 ? a / b : 0)}'; }
report=$(cat <<TXT
## Reports ($(date -u +%Y-%m-%d), $(nproc) cores, $n orders over 365 days, $k sequential requests each over HTTPS, mongo-standin)

The machine's load average was $load0 before the measurements and $load1 after (other work shares
the 2 cores): the times are wall-clock and suffer from it; the CPU figures much less.

The shop: $n orders spread evenly over the last 365 days, 90 % paid (a payment 5 minutes after
placing), 1 in 20 paid ones refunded a day later, 5,000 customers, 200 products x 3 variants.
"sales, 30 days" is \`GET /api/v1/admin/reports/sales\` with its defaults (30 local days to the next
midnight, day buckets, and the 30 days before for the change): 4 pipelines - sales and refunds,
this period and the previous one. The dashboard runs the same report code once over the last 60
local days by day (2 pipelines) and sums its days for today, 7 and 30 days and the periods before,
plus 5 counts, the stock pipeline and the events pipeline. EMPORIUM_REPORT_MAX_TIME_MS is 25000 here
(the stand-in pauses while it saves 100k orders to disk; the default 10000 timed a dashboard out
once), and the measurements start once the stand-in is idle after the seeding.
Time is per request (p50 and max of $k after one not counted); CPU is microseconds per request from
/proc; docs/keys examined are the stand-in's plan log per request (the first \$match of each pipeline
and each count, through the indexes src/reports declares; "collection scans" names any collection
read without one).

| request | p50 ms | max ms | database CPU us | FastCGI CPU us | docs examined | keys examined | plans | collection scans |
|---|---:|---:|---:|---:|---:|---:|---:|---|
$(row sales30 "sales, 30 days by day")
$(row sales30week "sales, 30 days by week")
$(row dashboard "dashboard (admin)")
$(row stock "stock report")

The dashboard costs $(ratio "$(get dashboard 2)" "$(get sales30 2)")x the 30-day report's time. The plan log does not count what
\$lookup reads: the stand-in joins by reading the whole foreign collection once per pipeline (a hash
join since e2a9514), so its CPU grows with the orders collection, not with the range; MongoDB looks
each \`order_id\` up in the \`_id\` index.
TXT
)
bench_write_section "Reports" "$report"
