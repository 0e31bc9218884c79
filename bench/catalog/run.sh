#!/usr/bin/env bash
# bench/catalog/run.sh - the public catalog through nginx over HTTPS with the
# demo catalog scaled to N products (default 10000), one run on this machine:
#   list     GET /api/v1/products?category=men-tops&size=M&sort=price_asc
#   detail   GET /api/v1/products/men-tops-001
#   search   GET /api/v1/products?q=waterproof+boots (cache miss only: the
#            text index and the relevance sort, the database's share)
# each as a cache miss (every request carries "Cookie: bench=1": the
# rendered config bypasses the micro-cache for ANY cookie or Authorization
# header, and the app ignores a cookie it does not know, so the request
# does the full work of an anonymous read) and as a cache hit (the same
# anonymous URL again and again: nginx's micro-cache answers), against
#   static   nginx serving a file holding the same body, from the same nginx
#   trivial  bench/trivial.c answering a body of the same size, behind a
#            twin nginx rendered from the same template
#   dbcache  the same detail miss with bench/dbcache.c between the pool and
#            the database: its repeated reads answered from memory, so the
#            database costs these 2 cores almost nothing (as on a host of
#            its own) while the pool does all of its work - the issue's
#            "when the database is not the bottleneck"
#   express  bench/peers/express (Express 4 + the official mongodb driver,
#            npm ci'd here) serving the same detail and list from the same
#            database, behind the same nginx (an extra server block on its
#            own port, proxy_pass over a unix socket, included into the
#            stack's rendered nginx.conf and reloaded)
# Targets: detail miss >= 50% of the trivial responder when the database is
# not the bottleneck (the dbcache run; the stand-in run reports its share),
# pool CPU per detail
# <= 110 us and <= 0.15 of the Express peer's; any catalog GET on a hit
# >= 85% of the static file (issue 16). Appends a "Catalog reads" section to
# bench/RESULTS.md.
#
#   bench/catalog/run.sh [DURATION_S] [PRODUCTS]   (defaults 8 and 10000)
# BIN_DIR = a built tree (default build/bench2, built with --enable-werror);
# BENCH_CONNECTIONS (default 16) as in bench/run.sh. BASE_BIN_DIR = another
# built tree (an earlier commit, "before"): when set, the pool is restarted
# from its emporium-fcgi for one detail and one list miss, then from
# BIN_DIR's again for a third pair, so before/after come from one run.
# Worker memory over a long run (workers not recycling): bench/catalog/rss.sh.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
. scripts/lib/deps.sh
. bench/lib.sh
dur=${1:-8}
nprod=${2:-10000}
conns=${BENCH_CONNECTIONS:-16}
command -v wrk >/dev/null || { echo "bench needs wrk (apt-get install wrk)"; exit 1; }
bin=${BIN_DIR:-$top/build/bench2}
build_tree "$bin" --enable-werror
dir=$(mktemp -d /tmp/emporium-bench-catalog.XXXXXX)
cleanup() {
	[ -f "$dir/express.pid" ] && kill "$(cat "$dir/express.pid")" 2>/dev/null
	[ -f "$dir/twin.pid" ] && kill "$(cat "$dir/twin.pid")" 2>/dev/null
	[ -f "$dir/trivial.pid" ] && kill "$(cat "$dir/trivial.pid")" 2>/dev/null
	[ -f "$dir/dbcache.pid" ] && kill "$(cat "$dir/dbcache.pid")" 2>/dev/null
	scripts/lib/stack.sh stop "$dir/stack" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT

workers=${BENCH_WORKERS:-$(nproc)}
mkdir -p "$dir/static"
STACK_BIN_DIR="$bin" STACK_WORKERS="$workers" STACK_LOG_LEVEL=warn STACK_ADMIN_ROOT="$dir/static" \
STACK_NGX_API_RATE=1000000r/s STACK_NGX_API_BURST=1000000 STACK_NGX_CONN_PER_IP=10000 \
	scripts/lib/stack.sh start "$dir/stack" >/dev/null 2>&1
. "$dir/stack/stack.env"
db=$(sed -n 's/^EMPORIUM_DB_NAME=//p' "$STACK_ENV_FILE")

# the catalog: seed-demo, then copies of its products up to $nprod
EMPORIUM_ENV_FILE="$STACK_ENV_FILE" "$bin/emporium-admin" seed-demo >"$dir/seed.log" 2>&1 ||
	{ cat "$dir/seed.log"; exit 1; }
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$dir/scale" bench/catalog/scale.c \
	$(pkg-config --cflags --libs libmongoc-1.0)
products=$("$dir/scale" "$STACK_MONGODB_URI" "$db" "$nprod" | awk '{print $2}')

list_path="/api/v1/products?category=men-tops&size=M&sort=price_asc"
detail_path="/api/v1/products/men-tops-001"
# a search (text index, relevance order), cache miss only: the database's share
search_path="/api/v1/products?q=waterproof+boots"
# the bodies, also served as static files by the same nginx
fetch() { # fetch PATH FILE -> checks 200, writes the body
	local code
	code=$(curl -sk -H 'Cookie: bench=1' -o "$2" -w '%{http_code}' "$STACK_BASE$1")
	[ "$code" = 200 ] || { echo "GET $1 answered $code" >&2; exit 1; }
}
fetch "$list_path" "$dir/static/list.json"
fetch "$detail_path" "$dir/static/detail.json"
fetch "$search_path" "$dir/search.json"
list_bytes=$(stat -c %s "$dir/static/list.json")
detail_bytes=$(stat -c %s "$dir/static/detail.json")
list_items=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).items.length)' \
	"$dir/static/list.json")
# the Express peer, behind the stack's nginx on a port of its own
(cd bench/peers/express && { [ -d node_modules ] || npm ci --no-audit --no-fund --silent; }) ||
	{ echo "npm ci in bench/peers/express failed" >&2; exit 1; }
# the URI the stack's programs use
MONGODB_URI="$(sed -n 's/^EMPORIUM_MONGODB_URI=//p' "$STACK_ENV_FILE")" DB_NAME="$db" LOW_STOCK_PUBLIC=5 \
	PUBLIC_URL="$(sed -n 's/^EMPORIUM_PUBLIC_URL=//p' "$STACK_ENV_FILE")" \
	node bench/peers/express/server.js "$dir/express.sock" >"$dir/express.log" 2>&1 & echo $! > "$dir/express.pid"
for _ in $(seq 100); do grep -q ready "$dir/express.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$dir/express.log" || { cat "$dir/express.log" >&2; exit 1; }
eport=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat > "$dir/stack/nginx/conf/express.conf" <<NGX
upstream express_peer {
    server unix:$dir/express.sock;
    keepalive 32;
}
server {
    listen 127.0.0.1:$eport ssl;
    server_name localhost 127.0.0.1;
    ssl_certificate     $STACK_CA;
    ssl_certificate_key $dir/stack/tls/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    access_log $dir/stack/nginx/logs/access.log emporium_json;
    location /api/v1/ {
        proxy_pass http://express_peer;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host \$host;
    }
}
NGX
sed -i "s|^\(\s*include .*emporium.conf;\)\$|\1\n    include $dir/stack/nginx/conf/express.conf;|" "$dir/stack/nginx/conf/nginx.conf"
grep -q express.conf "$dir/stack/nginx/conf/nginx.conf" || { echo "could not include express.conf" >&2; exit 1; }
nginx -t -q -p "$dir/stack/nginx" -c "$dir/stack/nginx/conf/nginx.conf" -e "$dir/stack/nginx/logs/error.log" ||
	{ echo "nginx -t failed with express.conf" >&2; exit 1; }
kill -HUP "$(cat "$dir/stack/run/nginx.pid")"
express_base="https://127.0.0.1:$eport"
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$eport") 2>/dev/null && break; sleep 0.1; done
express_fetch() { # express_fetch PATH FILE
	local code
	code=$(curl -sk -o "$2" -w '%{http_code}' "$express_base$1")
	[ "$code" = 200 ] || { echo "express: GET $1 answered $code" >&2; exit 1; }
}
express_fetch "$detail_path" "$dir/express-detail.json"
express_fetch "$list_path" "$dir/express-list.json"
same_body() { cmp -s "$1" "$2" && echo "byte-for-byte the same" || echo "**differs** ($(stat -c %s "$2") B)"; }
express_same_detail=$(same_body "$dir/static/detail.json" "$dir/express-detail.json")
express_same_list=$(same_body "$dir/static/list.json" "$dir/express-list.json")

# the cache behaves as this bench assumes: anonymous repeat = HIT, cookie = BYPASS
cache_status() { curl -sk -o /dev/null -D - "$@" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache-status" {print $2}'; }
for p in "$list_path" "$detail_path"; do
	curl -sk -o /dev/null "$STACK_BASE$p"
	[ "$(cache_status "$STACK_BASE$p")" = HIT ] || { echo "no cache HIT for $p" >&2; exit 1; }
	[ "$(cache_status -H 'Cookie: bench=1' "$STACK_BASE$p")" = BYPASS ] ||
		{ echo "a cookie does not bypass the cache for $p" >&2; exit 1; }
done

# the trivial responder (body size set per run) behind a twin nginx
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$dir/trivial" bench/trivial.c \
	$(pkg-config --cflags --libs fcgi)
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread -o "$dir/dbcache" bench/dbcache.c \
	$(pkg-config --cflags --libs libbson-1.0)
mongo_hostport=${STACK_MONGODB_URI#mongodb://}
mongo_hostport=${mongo_hostport%%/*}
mongo_host=${mongo_hostport%:*}
mongo_port=${mongo_hostport##*:}
trivial_start() { # trivial_start BODY_BYTES
	[ -f "$dir/trivial.pid" ] && { kill "$(cat "$dir/trivial.pid")"; wait "$(cat "$dir/trivial.pid")" 2>/dev/null || true; }
	rm -f "$dir/trivial.sock"
	"$dir/trivial" "$dir/trivial.sock" "$workers" "$1" & echo $! > "$dir/trivial.pid"
	for _ in $(seq 50); do [ -S "$dir/trivial.sock" ] && break; sleep 0.1; done
}
mkdir -p "$dir/twin"
tport=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
(
	export NGX_PREFIX="$dir/twin" NGX_HTTPS_PORT="$tport" NGX_HTTP_PORT=$((tport + 1)) \
		NGX_SERVER_NAME="localhost 127.0.0.1" \
		NGX_UPSTREAMS="unix:$dir/trivial.sock" NGX_CERT="$STACK_CA" NGX_KEY="$dir/stack/tls/key.pem" \
		NGX_MEDIA_ROOT="$dir/stack/media" NGX_ADMIN_ROOT="$dir/static" \
		NGX_API_RATE=1000000r/s NGX_API_BURST=1000000 NGX_CONN_PER_IP=10000 \
		NGX_SITE_CONF="$dir/twin/conf/emporium.conf"
	nginx/render.sh --mode local --template nginx/emporium.conf.in --out "$dir/twin/conf/emporium.conf"
	nginx/render.sh --mode local --template nginx/local.conf.in --out "$dir/twin/conf/nginx.conf"
) >/dev/null
nginx -p "$dir/twin" -c "$dir/twin/conf/nginx.conf" -e "$dir/twin/logs/error.log" -g 'daemon off;' \
	>"$dir/twin.log" 2>&1 & echo $! > "$dir/twin.pid"
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$tport") 2>/dev/null && break; sleep 0.1; done
trivial_url="https://127.0.0.1:$tport/api/v1/health"

access="$dir/stack/nginx/logs/access.log"
tck=$(getconf CLK_TCK)
cpu_ticks() { # cpu_ticks PIDFILE: CPU ticks of a process and all its children, live and reaped
	local m; m=$(cat "$1")
	for p in "$m" $(cat /proc/"$m"/task/*/children 2>/dev/null); do
		awk '{print $14 + $15 + $16 + $17}' /proc/"$p"/stat 2>/dev/null
	done | awk '{s += $1} END {print s + 0}'
}
cpu_all() { # database, FastCGI pool, nginx: Emporium's, or the twin's for the trivial runs
	case $1 in
	trivial*) echo "0 $(cpu_ticks "$dir/trivial.pid") $(cpu_ticks "$dir/twin.pid")" ;;
	detail_dbcache) echo "$(($(cpu_ticks "$dir/stack/run/mongo.pid") + $(cpu_ticks "$dir/dbcache.pid"))) $(cpu_ticks "$dir/stack/run/fcgi.pid") $(cpu_ticks "$dir/stack/run/nginx.pid")" ;;
	express*) echo "$(cpu_ticks "$dir/stack/run/mongo.pid") $(cpu_ticks "$dir/express.pid") $(cpu_ticks "$dir/stack/run/nginx.pid")" ;;
	*) echo "$(cpu_ticks "$dir/stack/run/mongo.pid") $(cpu_ticks "$dir/stack/run/fcgi.pid") $(cpu_ticks "$dir/stack/run/nginx.pid")" ;;
	esac
}
# rate NAME URL [HEADER] -> "NAME rps requests non2xx cache% db% fcgi% nginx%"
# cache% = share of the requests nginx logged as HIT, UPDATING or STALE
# (answered from the micro-cache); db/fcgi/nginx% = CPU of the stack's
# database, FastCGI pool (or trivial responder) and nginx during the run,
# in % of one core
rate() {
	local name=$1 url=$2 before cached n c0 c1
	shift 2
	before=$(wc -l < "$access")
	c0=$(cpu_all "$name")
	wrk -t2 -c"$conns" -d"${dur}s" --timeout 30s ${1:+-H "$1"} "$url" > "$dir/wrk.out" 2>&1 || true
	c1=$(cpu_all "$name")
	n=$(tail -n +"$((before + 1))" "$access" | wc -l)
	cached=$(tail -n +"$((before + 1))" "$access" | grep -cE '"cache":"(HIT|UPDATING|STALE)"' || true)
	awk -v name="$name" -v n="$n" -v h="$cached" -v c0="$c0" -v c1="$c1" -v hz="$tck" -v d="$dur" '
		/Requests\/sec/ {r = $2} /requests in/ {t = $1} /Non-2xx/ {e = $NF}
		END {split(c0, a, " "); split(c1, b, " ")
		     printf "%s %s %d %d %s", name, r, t, e, (n > 0 ? sprintf("%.1f", h * 100 / n) : "-")
		     for (i = 1; i <= 3; i++) printf " %.0f", (b[i] - a[i]) * 100 / hz / d
		     printf "\n"}' "$dir/wrk.out"
}
# pool_start BIN [ENV_FILE]: the FastCGI pool restarted from BIN's emporium-fcgi,
# same socket (nginx reconnects), the stack's configuration or ENV_FILE, warmed up
pool_start() {
	local pid env=${2:-$dir/stack/emporium.env}
	pid=$(cat "$dir/stack/run/fcgi.pid")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -f "$dir/stack/run/fcgi.sock"
	EMPORIUM_ENV_FILE="$env" "$1/emporium-fcgi" >>"$dir/stack/logs/fcgi.log" 2>&1 &
	echo $! > "$dir/stack/run/fcgi.pid"
	for _ in $(seq 150); do [ -S "$dir/stack/run/fcgi.sock" ] && break; sleep 0.1; done
	[ -S "$dir/stack/run/fcgi.sock" ] || { echo "emporium-fcgi from $1 did not start" >&2; exit 1; }
	wrk -t2 -c"$conns" -d2s -H "Cookie: bench=1" "$STACK_BASE$detail_path" >/dev/null 2>&1
}
# the FastCGI workers' resident memory, summed (kB)
worker_rss() {
	local m; m=$(cat "$dir/stack/run/fcgi.pid")
	for p in $(cat /proc/"$m"/task/*/children 2>/dev/null); do
		awk '/^VmRSS:/ {print $2}' /proc/"$p"/status 2>/dev/null
	done | awk '{s += $1} END {print s + 0}'
}
wrk -t2 -c"$conns" -d2s "$STACK_BASE/admin/list.json" >/dev/null 2>&1 # warm up
wrk -t2 -c"$conns" -d2s -H "Cookie: bench=1" "$STACK_BASE$detail_path" >/dev/null 2>&1
wrk -t2 -c"$conns" -d2s "$express_base$detail_path" >/dev/null 2>&1
# each figure right after the one it is compared with (the machine is shared)
{
	rate static_list "$STACK_BASE/admin/list.json"
	rate list_hit "$STACK_BASE$list_path"
	rate static_detail "$STACK_BASE/admin/detail.json"
	rate detail_hit "$STACK_BASE$detail_path"
	trivial_start "$list_bytes"
	[ "$(curl -sk -o /dev/null -w '%{size_download}' "$trivial_url")" = "$list_bytes" ] || { echo "trivial: wrong size" >&2; exit 1; }
	rate trivial_list "$trivial_url"
	rate list_miss "$STACK_BASE$list_path" "Cookie: bench=1"
	rate express_list "$express_base$list_path" "Cookie: bench=1"
	trivial_start "$detail_bytes"
	[ "$(curl -sk -o /dev/null -w '%{size_download}' "$trivial_url")" = "$detail_bytes" ] || { echo "trivial: wrong size" >&2; exit 1; }
	rate trivial_detail "$trivial_url"
	rss0=$(worker_rss)
	rate detail_miss "$STACK_BASE$detail_path" "Cookie: bench=1"
	rate express_detail "$express_base$detail_path" "Cookie: bench=1"
	rate detail_miss2 "$STACK_BASE$detail_path" "Cookie: bench=1"
	echo "rss $rss0 $(worker_rss)"
	rate search_miss "$STACK_BASE$search_path" "Cookie: bench=1"
	if [ -n "${BASE_BIN_DIR:-}" ]; then
		pool_start "$BASE_BIN_DIR"
		rate detail_base "$STACK_BASE$detail_path" "Cookie: bench=1"
		rate list_base "$STACK_BASE$list_path" "Cookie: bench=1"
		pool_start "$bin"
		rate detail_miss3 "$STACK_BASE$detail_path" "Cookie: bench=1"
		rate list_miss3 "$STACK_BASE$list_path" "Cookie: bench=1"
	fi
	# the database off the machine's budget: bench/dbcache.c in front of the
	# stand-in, the pool pointed at it (directConnection: the stand-in's hello
	# names its own address), the same detail miss
	"$dir/dbcache" 0 "$mongo_host" "$mongo_port" >"$dir/dbcache.out" 2>"$dir/dbcache.log" &
	echo $! > "$dir/dbcache.pid"
	for _ in $(seq 50); do grep -q ready "$dir/dbcache.out" && break; sleep 0.1; done
	dport=$(awk '$1 == "ready" {print $2}' "$dir/dbcache.out")
	[ -n "$dport" ] || { echo "dbcache did not start" >&2; exit 1; }
	sed "s|^EMPORIUM_MONGODB_URI=.*|EMPORIUM_MONGODB_URI=mongodb://127.0.0.1:$dport/?replicaSet=rs0\&directConnection=true|" \
		"$dir/stack/emporium.env" > "$dir/stack/emporium-dbcache.env"
	pool_start "$bin" "$dir/stack/emporium-dbcache.env"
	fetch "$detail_path" "$dir/dbcache-detail.json"
	cmp -s "$dir/dbcache-detail.json" "$dir/static/detail.json" || { echo "detail through dbcache differs" >&2; exit 1; }
	rate detail_dbcache "$STACK_BASE$detail_path" "Cookie: bench=1"
	kill "$(cat "$dir/dbcache.pid")"; wait "$(cat "$dir/dbcache.pid")" 2>/dev/null || true
	rm -f "$dir/dbcache.pid"
	echo "dbcache $(cat "$dir/dbcache.log")"
} > "$dir/rates"
cat "$dir/rates" >&2
get() { awk -v k="$1" -v f="$2" '$1 == k {print $f}' "$dir/rates"; }
ratio() { awk -v a="$(get "$1" 2)" -v b="$(get "$2" 2)" 'BEGIN {r = a / b; printf (r < 0.1 ? "%.3f" : "%.2f"), r}'; }
check() { awk -v r="$1" -v t="$2" 'BEGIN {print (r >= t) ? "met" : "**NOT met**"}'; }
row() { # row LABEL NAME BYTES TRIVIAL STATIC TARGET
	local vt vs tgt=""
	vt=$(ratio "$2" "$4"); vs=$(ratio "$2" "$5")
	case $6 in
	trivial50) tgt=">= 0.50 of trivial: $(check "$vt" 0.50)" ;;
	static85) tgt=">= 0.85 of static: $(check "$vs" 0.85)" ;;
	esac
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$3" "$(get "$2" 2)" "$vt" "$vs" \
		"$(get "$2" 5)" "$(get "$2" 4)" "$tgt"
}
us() { awk -v k="$1" -v f="$2" '$1 == k {printf "%.0f", $f * 1e4 / $2}' "$dir/rates"; }
summary() {
	local p1 p2 pool ex db1 db2 rps1 rps2 r0 r1 nreq
	p1=$(us detail_miss 7); p2=$(us detail_miss2 7); ex=$(us express_detail 7)
	db1=$(us detail_miss 6); db2=$(us detail_miss2 6)
	pool=$(awk -v a="$p1" -v b="$p2" 'BEGIN {printf "%.0f", (a + b) / 2}')
	rps1=$(get detail_miss 2); rps2=$(get detail_miss2 2)
	read -r _ r0 r1 < <(grep '^rss ' "$dir/rates")
	nreq=$(awk '$1 ~ /^detail_miss/ || $1 == "list_miss" {s += $3} END {print s}' "$dir/rates")
	echo "Detail, cache miss (mean of the two runs): pool CPU $pool us per request (target <= 110: $(awk -v p="$pool" 'BEGIN {print (p <= 110) ? "met" : "**NOT met**"}')),"
	echo "$(awk -v p="$pool" -v e="$ex" 'BEGIN {printf "%.2f", p / e}') of the Express peer's $ex us (target <= 0.15: $(awk -v p="$pool" -v e="$ex" 'BEGIN {print (p / e <= 0.15) ? "met" : "**NOT met**"}'));"
	echo "requests/s $(awk -v a="$rps1" -v b="$rps2" -v t="$(get trivial_detail 2)" 'BEGIN {printf "%.2f", (a + b) / 2 / t}') of the trivial responder's with the stand-in on the same 2 cores:"
	echo "the database spent $db1 / $db2 us per detail (Express's reads: $(us express_detail 6) us), $(awk -v d="$db1" -v p="$p1" -v n="$(us detail_miss 8)" 'BEGIN {printf "%.0f", d * 100 / (d + p + n)}')% of the CPU the"
	echo "database, pool and nginx spent per detail; with its reads answered from memory (bench/dbcache.c, $(us detail_dbcache 6) us"
	echo "per detail; the pool $(us detail_dbcache 7) us) the database is not the bottleneck: $(ratio detail_dbcache trivial_detail) of the trivial responder's"
	echo "requests/s (target >= 0.50: $(check "$(ratio detail_dbcache trivial_detail)" 0.50)); dbcache's counters: $(grep '^dbcache ' "$dir/rates" | cut -d' ' -f2-)."
	echo "Express per detail request: $ex us in its process, so the pool costs $(awk -v p="$pool" -v e="$ex" 'BEGIN {printf "%.1f", e / p}')x less."
	echo "Worker RSS (sum over $workers workers): $r0 kB before the detail runs, $r1 kB after; $nreq requests of the pool during the run" \
		"(workers recycle every EMPORIUM_MAX_REQUESTS: memory over a long run without recycling is bench/catalog/rss.sh)."
	if grep -q '^detail_base ' "$dir/rates"; then
		local b3 l3 bb lb
		b3=$(us detail_miss3 7); bb=$(us detail_base 7); l3=$(us list_miss3 7); lb=$(us list_base 7)
		echo
		echo "Before/after in this run (the pool restarted from BASE_BIN_DIR, then from BIN_DIR again):"
		echo
		echo "| run | req/s | database us/req | pool us/req | nginx us/req |"
		echo "|---|---:|---:|---:|---:|"
		for k in detail_base detail_miss3 list_base list_miss3; do
			awk -v k="$k" '$1 == k {printf "| %s | %s | %.0f | %.0f | %.0f |\n", k, $2,
				$6 * 1e4 / $2, $7 * 1e4 / $2, $8 * 1e4 / $2}' "$dir/rates"
		done
		echo
		echo "Detail miss pool CPU: $b3 us after vs $bb us before ($(awk -v a="$b3" -v b="$bb" 'BEGIN {printf "%.2f", a / b}')x);" \
			"list miss: $l3 vs $lb us ($(awk -v a="$l3" -v b="$lb" 'BEGIN {printf "%.2f", a / b}')x);" \
			"detail req/s $(ratio detail_miss3 detail_base)x, list req/s $(ratio list_miss3 list_base)x."
	fi
}
report=$(cat <<TXT
## Catalog reads ($(date -u +%Y-%m-%d), $(nproc) cores, $products products, wrk -t2 -c$conns -d${dur}s over HTTPS, $workers FastCGI workers, mongo-standin)

list = \`GET $list_path\` ($list_items items, $list_bytes B); detail = \`GET $detail_path\` ($detail_bytes B).
Miss: every request sends \`Cookie: bench=1\`; any cookie or Authorization header bypasses nginx's
micro-cache (X-Cache-Status: BYPASS, checked), and the app ignores the unknown cookie, so each
request runs the whole anonymous read. Hit: the same anonymous URL (X-Cache-Status: HIT, checked).
Static: the same body from a file, through the same nginx. Trivial: bench/trivial.c with a body
padded to the same size (its BODY_BYTES argument), behind a twin nginx from the same template.
"cached %" is the share of the run's requests nginx logged as HIT, UPDATING or STALE (answered
from the micro-cache; an entry lives 5 s, so a hit run refreshes it in the background).

| run | body B | req/s | vs trivial (same size) | vs static (same size) | cached % | non-2xx | target |
|---|---:|---:|---:|---:|---:|---:|---|
| nginx static file, list body | $list_bytes | $(get static_list 2) | $(ratio static_list trivial_list) | 1.00 | | $(get static_list 4) | |
| nginx static file, detail body | $detail_bytes | $(get static_detail 2) | $(ratio static_detail trivial_detail) | 1.00 | | $(get static_detail 4) | |
| trivial responder, list size | $list_bytes | $(get trivial_list 2) | 1.00 | $(ratio trivial_list static_list) | | $(get trivial_list 4) | |
| trivial responder, detail size | $detail_bytes | $(get trivial_detail 2) | 1.00 | $(ratio trivial_detail static_detail) | | $(get trivial_detail 4) | |
$(row "list, cache miss" list_miss "$list_bytes" trivial_list static_list none)
$(row "list, cache hit" list_hit "$list_bytes" trivial_list static_list static85)
$(row "detail, cache miss" detail_miss "$detail_bytes" trivial_detail static_detail none)
$(row "detail, cache hit" detail_hit "$detail_bytes" trivial_detail static_detail static85)
$(row "detail, cache miss (again, after Express)" detail_miss2 "$detail_bytes" trivial_detail static_detail none)
$(row "detail, cache miss, the database's reads from memory (bench/dbcache.c)" detail_dbcache "$detail_bytes" trivial_detail static_detail trivial50)
$(row "Express peer, list" express_list "$(stat -c %s "$dir/express-list.json")" trivial_list static_list none)
$(row "Express peer, detail" express_detail "$(stat -c %s "$dir/express-detail.json")" trivial_detail static_detail none)
| search \`$search_path\`, cache miss | $(stat -c %s "$dir/search.json") | $(get search_miss 2) | | | $(get search_miss 5) | $(get search_miss 4) | |

CPU during each run: % of one core (the machine has $(( $(nproc) * 100 ))%; wrk and other tenants use
the rest) and microseconds of CPU per answered request. For the trivial runs the pool is
bench/trivial.c and nginx is the twin; for the Express runs the "pool" is the one Node process
of bench/peers/express (Express 4, mongodb driver $(node -p 'require("./bench/peers/express/node_modules/mongodb/package.json").version'),
Node $(node --version)), behind the same nginx. The Express peer's bodies: detail $express_same_detail,
list $express_same_list (as ours). Both reach the database over TCP 127.0.0.1 (replicaSet=rs0).

| run | database (mongo-standin, Node.js) % | FastCGI pool % | nginx % | database us/req | pool us/req | nginx us/req |
|---|---:|---:|---:|---:|---:|---:|
$(for k in trivial_list list_miss express_list list_hit trivial_detail detail_miss express_detail detail_miss2 detail_dbcache detail_hit search_miss; do
	awk -v k="$k" '$1 == k {printf "| %s | %s | %s | %s | %.0f | %.0f | %.0f |\n", k, $6, $7, $8,
		$6 * 1e4 / $2, $7 * 1e4 / $2, $8 * 1e4 / $2}' "$dir/rates"; done)

$(summary)
TXT
)
bench_write_section "Catalog reads" "$report"
