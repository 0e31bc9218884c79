#!/usr/bin/env bash
# bench/auth/run.sh - login throughput at the configured argon2id cost, one
# run on this machine:
#   raw    bench/auth/verify.c: crypto_pwhash_str_verify at the stack's cost
#          (EMPORIUM_ARGON2_MEMORY_KIB / _ITERATIONS) in as many processes as
#          the stack has FastCGI workers, no HTTP, no database
#   login  wrk POSTing {"email","password"} of a verified account (made with
#          `emporium-admin create-admin`) to /api/v1/auth/login through
#          nginx over HTTPS, -t2 -c(2 x workers); only 200s count
# Target: login rate >= 80% of the raw rate. Writes the section
# "Login (argon2id)" of bench/RESULTS.md (other sections are kept).
#
#   bench/auth/run.sh [LOGIN_S] [RAW_S]   (defaults 15 and 10; needs wrk)
# BIN_DIR = a built tree (default build/bench2, built with --enable-werror);
# EMPORIUM_ARGON2_MEMORY_KIB / EMPORIUM_ARGON2_ITERATIONS in the
# environment are passed to the stack (defaults 19456 KiB, 2).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
. scripts/lib/deps.sh
. bench/lib.sh
login_s=${1:-15}
raw_s=${2:-10}
command -v wrk >/dev/null || { echo "bench needs wrk (apt-get install wrk)"; exit 1; }
bin=${BIN_DIR:-$top/build/bench2}
build_tree "$bin" --enable-werror
dir=$(mktemp -d /tmp/emporium-bench-auth.XXXXXX)
trap 'scripts/lib/stack.sh stop "$dir/stack" >/dev/null 2>&1; rm -rf "$dir"' EXIT

workers=${BENCH_WORKERS:-$(nproc)}
extra=""
for v in EMPORIUM_ARGON2_MEMORY_KIB EMPORIUM_ARGON2_ITERATIONS; do
	[ -z "${!v:-}" ] || extra="$extra$v=${!v}"$'\n'
done
# nginx's auth limits (5 r/s per address by default) raised: this measures
# the application; the app's own throttles only count failed logins.
STACK_BIN_DIR="$bin" STACK_WORKERS="$workers" STACK_LOG_LEVEL=warn STACK_ENV_EXTRA="$extra" \
STACK_NGX_API_RATE=1000000r/s STACK_NGX_API_BURST=1000000 STACK_NGX_CONN_PER_IP=10000 \
STACK_NGX_AUTH_RATE=1000000r/s STACK_NGX_AUTH_BURST=1000000 \
	scripts/lib/stack.sh start "$dir/stack" >/dev/null 2>&1
. "$dir/stack/stack.env"
# the cost the stack runs with: its env file, else the documented defaults
envget() { sed -n "s/^$1=//p" "$STACK_ENV_FILE" | tail -1; }
mem_kib=$(envget EMPORIUM_ARGON2_MEMORY_KIB); mem_kib=${mem_kib:-19456}
iters=$(envget EMPORIUM_ARGON2_ITERATIONS); iters=${iters:-2}

# a verified account with a password, the operator's way
email=bench-login@example.test
password="bench-$(openssl rand -hex 12)"
printf '%s\n' "$password" | EMPORIUM_ENV_FILE="$STACK_ENV_FILE" "$bin/emporium-admin" create-admin \
	--email "$email" >"$dir/admin.log" 2>&1 || { cat "$dir/admin.log"; exit 1; }
body=$(printf '{"email":"%s","password":"%s"}' "$email" "$password")
code=$(curl -sk -o "$dir/login.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data "$body" "$STACK_BASE/api/v1/auth/login")
[ "$code" = 200 ] || { echo "login answered $code: $(cat "$dir/login.json")"; exit 1; }

cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$dir/verify" bench/auth/verify.c \
	$(pkg-config --cflags --libs libsodium)
read -r _ raw_n _ raw_secs _ raw_rate < <("$dir/verify" "$mem_kib" "$iters" "$workers" "$raw_s")

conns=$((workers * 2))
BENCH_LOGIN_BODY="$body" wrk -t2 -c"$conns" -d"${login_s}s" --latency --timeout 10s \
	-s bench/auth/login.lua "$STACK_BASE/api/v1/auth/login" > "$dir/wrk.out" 2>&1 || true
line=$(grep '^BENCH ' "$dir/wrk.out") || { cat "$dir/wrk.out"; exit 1; }
kv() { awk -v k="$1" '{for (i = 2; i < NF; i += 2) if ($i == k) print $(i + 1)}' <<<"$line"; }
total=$(kv total); ok=$(kv ok); non200=$(kv non200); rps=$(kv good_rps)
mean=$(kv mean_ms); p50=$(kv p50_ms); p99=$(kv p99_ms); codes=$(kv codes)
sockerr=$(grep -o 'Socket errors:.*' "$dir/wrk.out" || echo "Socket errors: none")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
r=$(ratio "$rps" "$raw_rate")
met=$(awk -v r="$r" 'BEGIN {print (r >= 0.80) ? "met" : "NOT met"}')
one_ms=$(awk -v n="$raw_n" -v s="$raw_secs" -v w="$workers" 'BEGIN {printf "%.1f", s * w * 1000 / n}')
report=$(cat <<TXT
## Login (argon2id) ($(date -u +%Y-%m-%d), $(nproc) cores, argon2id m=$mem_kib KiB t=$iters p=1, $workers FastCGI workers, wrk -t2 -c$conns -d${login_s}s over HTTPS, mongo-standin)

| run | per second | mean ms | p50 ms | p99 ms | vs raw |
|---|---:|---:|---:|---:|---:|
| raw crypto_pwhash_str_verify, $workers processes, ${raw_s}s | $raw_rate | $one_ms | | | 1.00 |
| POST /api/v1/auth/login through nginx (200s only) | $rps | $mean | $p50 | $p99 | $r |

Target: login rate >= 80% of the raw rate across the pool: **$met** ($r).
Login requests: $total, of which $ok answered 200 and $non200 did not (statuses: $codes); wrk $sockerr.
Raw mean ms = one verification (seconds x processes / verifies); login latencies are wrk's,
with $conns connections on $workers workers, so they include queueing (about $((conns / workers)) requests per worker).
Only failed logins are throttled by the application (login-ip, login-acct); nginx's
/api/v1/auth/ limit (5 r/s per address by default) was raised for this run.
TXT
)
bench_write_section "Login (argon2id)" "$report"
