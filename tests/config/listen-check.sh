#!/usr/bin/env bash
# listen-check.sh BUILD_DIR - emporium-fcgi on TCP answers only the
# addresses in EMPORIUM_FCGI_ALLOWED: a FastCGI request from 127.0.0.1 is
# answered when loopback is allowed, and closed unread (and logged) when
# only another address is. A real FastCGI request (a Python client of the
# protocol) asks GET /api/v1/health, which needs no database.
# Prints ok/not ok lines and "N passed, N failed".
set -uo pipefail
build=$(realpath "$1")
dir=$(mktemp -d)
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1${2:+: $2}"; fail=$((fail + 1)); }
cleanup() { [ -n "${fpid:-}" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# fcgi_get: one FastCGI GET /api/v1/health; prints what came back (may be empty)
fcgi_get() {
	/usr/bin/python3 - "$port" <<'PY'
import socket, struct, sys
def rec(t, body, rid=1):
    pad = (8 - len(body) % 8) % 8
    return struct.pack("!BBHHBx", 1, t, rid, len(body), pad) + body + b"\0" * pad
def nv(k, v):
    k, v = k.encode(), v.encode()
    enc = lambda n: bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)
    return enc(len(k)) + enc(len(v)) + k + v
params = b"".join(nv(k, v) for k, v in [
    ("REQUEST_METHOD", "GET"), ("REQUEST_URI", "/api/v1/health"), ("SCRIPT_NAME", ""),
    ("QUERY_STRING", ""), ("SERVER_PROTOCOL", "HTTP/1.1"), ("REMOTE_ADDR", "127.0.0.1"),
    ("HTTP_X_REQUEST_ID", "listen-check"), ("CONTENT_LENGTH", "")])
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
try:
    s.sendall(rec(1, struct.pack("!HB5x", 1, 0)) + rec(4, params) + rec(4, b"") + rec(5, b""))
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except (ConnectionResetError, BrokenPipeError, socket.timeout):
    data = b""
out = b""
while len(data) >= 8:  # keep the FCGI_STDOUT records' content only
    _, t, _, clen, plen = struct.unpack("!BBHHB", data[:7])
    if t == 6:
        out += data[8:8 + clen]
    data = data[8 + clen + plen:]
sys.stdout.write(out.decode("latin-1"))
PY
}

start() { # start ALLOWED
	cat > "$dir/env" <<ENV
EMPORIUM_LISTEN=127.0.0.1:$port
EMPORIUM_WORKERS=1
EMPORIUM_FCGI_ALLOWED=$1
EMPORIUM_JWT_SECRET=0123456789abcdef0123456789abcdef0123456789abcdef
EMPORIUM_MONGODB_URI=mongodb://127.0.0.1:1/?replicaSet=rs0
ENV
	EMPORIUM_ENV_FILE="$dir/env" "$build/emporium-fcgi" 2>"$dir/log" &
	fpid=$!
	for _ in $(seq 50); do
		/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
stop() { kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null; fpid=""; }

if start "127.0.0.1 ::1"; then
	out=$(fcgi_get)
	if grep -q '^Status: 200' <<<"$out" && grep -q '"status"' <<<"$out"; then
		ok "TCP listener: loopback allowed -> GET /api/v1/health answered 200"
	else notok "TCP listener: loopback allowed -> GET /api/v1/health answered 200" "$(head -c 300 <<<"$out")"; fi
	stop
else notok "emporium-fcgi started on 127.0.0.1:$port" "$(tail -5 "$dir/log")"; fi

if start "10.255.255.1 192.0.2.0/24"; then
	out=$(fcgi_get)
	if [ -z "$out" ]; then
		ok "TCP listener: 127.0.0.1 not allowed -> connection closed, nothing answered"
	else notok "TCP listener: 127.0.0.1 not allowed -> connection closed, nothing answered" "$(head -c 300 <<<"$out")"; fi
	sleep 0.3
	if grep -q 'refused a FastCGI connection from 127.0.0.1' "$dir/log"; then
		ok "the refusal is logged with the address"
	else notok "the refusal is logged with the address" "$(tail -3 "$dir/log")"; fi
	stop
else notok "emporium-fcgi started with another allowlist" "$(tail -5 "$dir/log")"; fi

sed -i 's/^EMPORIUM_FCGI_ALLOWED=.*/EMPORIUM_FCGI_ALLOWED=nginx.example/' "$dir/env" 2>/dev/null
if ! EMPORIUM_ENV_FILE="$dir/env" timeout 10 "$build/emporium-fcgi" 2>"$dir/log2" &&
	grep -q 'EMPORIUM_FCGI_ALLOWED' "$dir/log2"; then
	ok "a malformed EMPORIUM_FCGI_ALLOWED stops the start, naming it"
else notok "a malformed EMPORIUM_FCGI_ALLOWED stops the start, naming it" "$(tail -3 "$dir/log2")"; fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
