#!/usr/bin/env bash
# bench/mongo-standin/run.sh [N] - the stand-in's throughput from the C
# driver with N (default 100000) product-like documents loaded, and its
# resident memory; writes the "database stand-in" section of bench/RESULTS.md.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$top/bench/lib.sh"
n=${1:-100000}
dir=$(mktemp -d /tmp/emporium-standin-bench.XXXXXX)
trap '[ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null; rm -rf "$dir"' EXIT
(cd "$top/tests/mongo-standin" && { [ -d node_modules ] || npm ci --silent --no-audit --no-fund; })
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$dir/bench" "$top/bench/mongo-standin/bench.c" \
	$(pkg-config --cflags --libs libmongoc-1.0)
# pin the server to one core: the target is per core
taskset -c 0 node "$top/tests/mongo-standin/server.js" --port 0 --repl-set rs0 >"$dir/out" 2>"$dir/log" &
echo $! > "$dir/pid"
for _ in $(seq 100); do grep -q ready "$dir/out" && break; sleep 0.1; done
port=$(sed -n 's/.*ready on [0-9.]*:\([0-9]*\).*/\1/p' "$dir/out")
taskset -c 1 "$dir/bench" "mongodb://127.0.0.1:$port/?replicaSet=rs0" "$n" | tee "$dir/res"
rss=$(awk '/VmRSS/ {print $2}' /proc/"$(cat "$dir/pid")"/status)
get() { awk -v k="$1" '$1 == k {print $2}' "$dir/res"; }
report=$(cat <<TXT
## Database stand-in ($(date -u +%Y-%m-%d), server pinned to one core, C driver on the other, $n documents)

| operation | ops/s |
|---|---:|
| find by _id | $(get find_by_id) |
| find by a unique indexed field (sku) | $(get find_by_indexed_field) |
| insert_one | $(get insert_one) |
| bulk insert (batches of 1000) | $(get bulk_insert) |

Server resident memory with $((n + 5000)) documents: $((rss / 1024)) MiB. Target: >= 5,000 finds/s on one core, < 1 GiB.
TXT
)
bench_write_section "Database stand-in" "$report"
