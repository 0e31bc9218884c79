#!/usr/bin/env bash
# Compatibility suite of mongo-standin: Node driver cases (node:test) and C
# driver cases (compat.c on Debian's libmongoc). Starts its own stand-ins on
# free ports, or runs against a real replica set when MONGODB_URI is set
# (stand-in-specific cases are then skipped).
# Ends with a line "N passed, N failed, N skipped"; exits non-zero on any
# failure. A skip (what a real server here cannot do, e.g. fail points
# without enableTestCommands) is printed and counted, never passed.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
WORK="$(mktemp -d)"
# start_standin runs in a $(...) subshell, so pids go to a file.
cleanup() {
  if [ -f "$WORK/pids" ]; then
    while read -r p; do kill "$p" 2>/dev/null; done <"$WORK/pids"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ ! -d "$ROOT/node_modules/mongodb" ] || [ ! -d "$ROOT/node_modules/mingo" ]; then
  (cd "$ROOT" && npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1) || { cat "$WORK/npm.log"; echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi

# start_standin ARGS... -> prints the port (waits for the ready line)
start_standin() {
  local out="$WORK/standin.$RANDOM.out"
  node "$ROOT/server.js" --port 0 "$@" >"$out" 2>"$out.err" &
  echo $! >>"$WORK/pids"
  for _ in $(seq 1 100); do
    if grep -q '^mongo-standin ready on ' "$out"; then
      sed -n 's/^mongo-standin ready on .*:\([0-9]*\)$/\1/p' "$out"; return 0
    fi
    sleep 0.1
  done
  echo "stand-in did not start:" >&2; cat "$out.err" >&2; return 1
}

if [ -n "${MONGODB_URI:-}" ]; then
  RS_URI="$MONGODB_URI"
  SA_URI="-"
else
  RS_PORT=$(start_standin --repl-set rs0 --enable-test-commands) || { echo "0 passed, 1 failed"; exit 1; }
  SA_PORT=$(start_standin) || { echo "0 passed, 1 failed"; exit 1; }
  RS_URI="mongodb://127.0.0.1:$RS_PORT/?replicaSet=rs0&serverSelectionTimeoutMS=5000"
  SA_URI="mongodb://127.0.0.1:$SA_PORT/?serverSelectionTimeoutMS=5000"
fi

PASS=0; FAIL=0; SKIP=0

# --- Node driver cases ---
STANDIN_RS_URI="$RS_URI" node --test --test-reporter=tap "$HERE/compat.test.js" "$HERE/compat-aggregate.test.js" >"$WORK/node.tap" 2>&1
NODE_RC=$?
grep -E '^\s*(not ok|ok) ' "$WORK/node.tap" | grep -v '^\s*ok .* # SKIP' | sed 's/^/node: /' | grep -E 'not ok' || true
NP=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$WORK/node.tap" | tail -1)
NF=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$WORK/node.tap" | tail -1)
NS=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$WORK/node.tap" | tail -1)
NP=${NP:-0}; NF=${NF:-0}; NS=${NS:-0}
grep -E '^\s*ok .* # SKIP' "$WORK/node.tap" | sed 's/^ */node: skip: /'
if [ "$NODE_RC" -ne 0 ] && [ "$NF" -eq 0 ]; then NF=1; cat "$WORK/node.tap"; fi
if [ "$NF" -ne 0 ]; then grep -B2 -A25 '^\s*not ok' "$WORK/node.tap" | head -200; fi
echo "node driver: $NP passed, $NF failed, $NS skipped"
PASS=$((PASS + NP)); FAIL=$((FAIL + NF)); SKIP=$((SKIP + NS))

# --- C driver cases ---
if cc -std=c11 -Wall -Wextra -Werror -o "$WORK/compat" "$HERE/compat.c" $(pkg-config --cflags --libs libmongoc-1.0) 2>"$WORK/cc.log"; then
  "$WORK/compat" "$RS_URI" "$SA_URI" >"$WORK/c.out" 2>"$WORK/c.err"
  C_RC=$?
  cat "$WORK/c.out"
  CP=$(grep -c '^ok - ' "$WORK/c.out"); CF=$(grep -c '^not ok - ' "$WORK/c.out"); CS=$(grep -c '^skip - ' "$WORK/c.out")
  if [ "$C_RC" -ne 0 ] && [ "$CF" -eq 0 ]; then CF=1; cat "$WORK/c.err"; fi
  PASS=$((PASS + CP)); FAIL=$((FAIL + CF)); SKIP=$((SKIP + CS))
else
  cat "$WORK/cc.log"; echo "compat.c failed to compile (apt-get install libmongoc-dev pkg-config build-essential)"
  FAIL=$((FAIL + 1))
fi

echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ]
