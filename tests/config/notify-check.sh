#!/usr/bin/env bash
# notify-check.sh BUILD_DIR - emporium-fcgi speaks systemd's notify
# protocol: READY=1 once the workers run, RELOADING=1 then READY=1 on
# SIGHUP, STOPPING=1 on SIGTERM; it exits 0 and removes its socket; and it
# refuses to start on a bad variable, naming it. Needs no systemd: a
# datagram socket stands in for $NOTIFY_SOCKET. Prints ok/not ok lines
# and "N passed, N failed".
set -uo pipefail
build=$(realpath "$1")
dir=$(mktemp -d)
pass=0 fail=0
check() { local name=$1; shift
	if "$@" >/dev/null 2>&1; then echo "ok - $name"; pass=$((pass + 1));
	else echo "not ok - $name"; fail=$((fail + 1)); fi; }
cleanup() { [ -n "${fpid:-}" ] && kill -9 "$fpid" 2>/dev/null; [ -n "${lpid:-}" ] && kill "$lpid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

# a listener that appends every datagram it gets to a file
/usr/bin/python3 - "$dir/notify.sock" "$dir/notes" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode() + "\n")
PY
lpid=$!
for _ in $(seq 50); do [ -S "$dir/notify.sock" ] && break; sleep 0.1; done

cat > "$dir/env" <<ENV
EMPORIUM_LISTEN=unix:$dir/fcgi.sock
EMPORIUM_WORKERS=2
EMPORIUM_JWT_SECRET=0123456789abcdef0123456789abcdef0123456789abcdef
EMPORIUM_MONGODB_URI=mongodb://127.0.0.1:1/?replicaSet=rs0
ENV
NOTIFY_SOCKET="$dir/notify.sock" EMPORIUM_ENV_FILE="$dir/env" "$build/emporium-fcgi" 2>"$dir/log" &
fpid=$!
wait_note() { for _ in $(seq 50); do grep -qx "$1" "$dir/notes" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
check "READY=1 after start" wait_note "READY=1"
check "socket created" test -S "$dir/fcgi.sock"
check "two workers" bash -c "[ \$(wc -w < /proc/$fpid/task/$fpid/children) = 2 ]"
kill -HUP "$fpid"
check "RELOADING=1 on SIGHUP" wait_note "RELOADING=1"
check "READY=1 again after the reload" bash -c "for _ in \$(seq 50); do [ \$(grep -cx READY=1 '$dir/notes') -ge 2 ] && exit 0; sleep 0.1; done; exit 1"
kill -TERM "$fpid"
check "STOPPING=1 on SIGTERM" wait_note "STOPPING=1"
rc=0; wait "$fpid" || rc=$?
fpid=""
check "exit status 0 after SIGTERM" test "$rc" = 0
check "socket removed" test ! -e "$dir/fcgi.sock"

echo "EMPORIUM_WORKERS=many" >> "$dir/env"
out=$(EMPORIUM_ENV_FILE="$dir/env" timeout 5 "$build/emporium-fcgi" 2>&1); rc=$?
check "a bad variable stops the start" test "$rc" = 1
check "the message names the variable" grep -q EMPORIUM_WORKERS <<<"$out"
sed -i '/EMPORIUM_WORKERS=many/d; /EMPORIUM_JWT_SECRET/d' "$dir/env"
out=$(EMPORIUM_ENV_FILE="$dir/env" timeout 5 "$build/emporium-fcgi" 2>&1); rc=$?
check "no JWT secret: refuses to start" test "$rc" = 1
check "and says which variable" grep -q EMPORIUM_JWT_SECRET <<<"$out"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
