#!/usr/bin/env bash
# stack.sh - start and stop a whole local Emporium stack in one directory:
# database (a real mongod on PATH, $MONGODB_URI, or tests/mongo-standin),
# the SMTP catcher, the SSLCOMMERZ stand-in (tests/sslcommerz-standin),
# emporium-fcgi, migrate, and nginx with a self-signed certificate. Used by
# ./scripts/run, ./scripts/test and bench/.
#
#   stack.sh start DIR     start everything; writes DIR/stack.env
#   stack.sh stop DIR      stop everything started in DIR
#   stack.sh mongo-stop DIR / mongo-start DIR   (fault tests)
#   stack.sh check-logs DIR  after a test run: no sanitizer report and no
#                          crashed server in the logs ("N passed, N failed")
#
# Ports come from STACK_HTTPS_PORT, STACK_HTTP_PORT, STACK_SMTP_PORT and
# STACK_MONGO_PORT; 0 or unset picks a free one. STACK_BIN_DIR holds the
# built programs (default: the checkout). STACK_MONGO_DBPATH keeps the
# stand-in's data across restarts. STACK_NGX_* overrides NGX_* for nginx.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
say() { printf 'stack: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_for TIMEOUT_S COMMAND...: polls until COMMAND succeeds.
wait_for() {
	local deadline=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfile() { # stop_pidfile FILE [TIMEOUT_S]
	local f=$1 t=${2:-20} pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait_for "$t" bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

mongo_start() {
	local dir=$1 port
	if [ -n "${MONGODB_URI:-}" ]; then
		echo "$MONGODB_URI" > "$dir/run/mongo.uri"
		say "database: MONGODB_URI (external)"
		return
	fi
	port=${STACK_MONGO_PORT:-0}
	[ "$port" != 0 ] || port=$(cat "$dir/run/mongo.port" 2>/dev/null || free_port)
	echo "$port" > "$dir/run/mongo.port"
	if command -v mongod >/dev/null && [ -z "${STACK_FORCE_STANDIN:-}" ]; then
		mkdir -p "$dir/mongod"
		mongod --replSet rs0 --bind_ip 127.0.0.1 --port "$port" --dbpath "$dir/mongod" \
			>"$dir/logs/mongod.log" 2>&1 &
		echo $! > "$dir/run/mongo.pid"
		wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || die "mongod did not start"
		command -v mongosh >/dev/null &&
			mongosh --quiet --port "$port" --eval \
			"try{rs.status()}catch(e){rs.initiate({_id:'rs0',members:[{_id:0,host:'127.0.0.1:$port'}]})}" \
			>/dev/null 2>&1 || true
		say "database: mongod on 127.0.0.1:$port"
	else
		[ -d "$top/tests/mongo-standin/node_modules" ] ||
			(cd "$top/tests/mongo-standin" && npm ci --no-audit --no-fund --silent) ||
			die "npm ci in tests/mongo-standin failed"
		# TTL sweep every STACK_STANDIN_TTL_MS, by default mongod's 60 s (no
		# suite needs faster expiry; one that does sets it). Test commands:
		# configureFailPoint.
		local args=(--port "$port" --repl-set rs0 --ttl-interval-ms "${STACK_STANDIN_TTL_MS:-60000}" --enable-test-commands)
		[ -n "${STACK_MONGO_DBPATH:-}" ] && mkdir -p "$STACK_MONGO_DBPATH" &&
			args+=(--dbpath "$STACK_MONGO_DBPATH")
		rm -f "$dir/logs/mongo.out" # a ready line from an earlier run would fool the wait
		node "$top/tests/mongo-standin/server.js" "${args[@]}" \
			>"$dir/logs/mongo.out" 2>>"$dir/logs/mongo.log" &
		echo $! > "$dir/run/mongo.pid"
		wait_for 30 grep -q ready "$dir/logs/mongo.out" || die "the stand-in did not start (see $dir/logs/mongo.log)"
		say "database: mongo-standin on 127.0.0.1:$port"
	fi
	echo "mongodb://127.0.0.1:$port/?replicaSet=rs0" > "$dir/run/mongo.uri"
}

smtp_start() {
	local dir=$1 port=${STACK_SMTP_PORT:-0}
	[ "$port" != 0 ] || port=$(free_port)
	echo "$port" > "$dir/run/smtp.port"
	mkdir -p "$dir/mail"
	/usr/bin/python3 "$top/scripts/lib/smtp-catcher.py" --port "$port" --dir "$dir/mail" \
		>"$dir/logs/smtp.log" 2>&1 &
	echo $! > "$dir/run/smtp.pid"
	wait_for 15 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || die "the SMTP catcher did not start"
}

tls_make() {
	local dir=$1
	[ -f "$dir/tls/cert.pem" ] && return
	mkdir -p "$dir/tls"
	openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" >/dev/null 2>&1 ||
		die "openssl could not make a certificate"
	chmod 600 "$dir/tls/key.pem"
}

# The SSLCOMMERZ stand-in (tests/sslcommerz-standin): the payment gateway of
# every local stack, so a demo order can be paid end to end. It POSTs IPNs
# to the stack's HTTPS, so it trusts the stack's certificate.
sslcommerz_start() {
	local dir=$1 port=${STACK_SSLCOMMERZ_PORT:-0}
	[ -s "$dir/secrets/sslcommerz" ] || { mkdir -p "$dir/secrets" && chmod 700 "$dir/secrets" &&
		openssl rand -hex 16 > "$dir/secrets/sslcommerz"; }
	rm -f "$dir/logs/sslcommerz.out"
	node "$top/tests/sslcommerz-standin/server.js" --port "$port" --store-id emporium-demo \
		--store-password "$(cat "$dir/secrets/sslcommerz")" --ca "$dir/tls/cert.pem" \
		>"$dir/logs/sslcommerz.out" 2>>"$dir/logs/sslcommerz.log" &
	echo $! > "$dir/run/sslcommerz.pid"
	wait_for 15 grep -q 'ready on' "$dir/logs/sslcommerz.out" || die "the SSLCOMMERZ stand-in did not start"
	echo "http://$(sed -n 's/.*ready on //p' "$dir/logs/sslcommerz.out")" > "$dir/run/sslcommerz.base"
}

fcgi_start() {
	local dir=$1 bin=${STACK_BIN_DIR:-$top}
	# Secrets are made at first start and kept with the stack's state.
	[ -s "$dir/secrets/jwt" ] || { mkdir -p "$dir/secrets" && chmod 700 "$dir/secrets" &&
		openssl rand -hex 32 > "$dir/secrets/jwt"; }
	mkdir -p "$dir/media"
	cat > "$dir/emporium.env" <<ENV
# Written by scripts/lib/stack.sh for this local stack.
EMPORIUM_LISTEN=unix:$dir/run/fcgi.sock
EMPORIUM_SOCKET_MODE=0666
EMPORIUM_WORKERS=${STACK_WORKERS:-0}
EMPORIUM_MONGODB_URI=$(cat "$dir/run/mongo.uri")
EMPORIUM_DB_NAME=${STACK_DB_NAME:-emporium}
EMPORIUM_DB_TIMEOUT_MS=${STACK_DB_TIMEOUT_MS:-1500}
EMPORIUM_PUBLIC_URL=https://localhost:$(cat "$dir/run/https.port")
EMPORIUM_LOG_LEVEL=${STACK_LOG_LEVEL:-info}
EMPORIUM_JWT_SECRET=$(cat "$dir/secrets/jwt")
EMPORIUM_SMTP_URL=smtp://127.0.0.1:$(cat "$dir/run/smtp.port")
EMPORIUM_SMTP_TLS=none
EMPORIUM_MAIL_FROM=Emporium Demo <shop@localhost>
EMPORIUM_STAFF_EMAIL=${STACK_STAFF_EMAIL:-staff@localhost}
EMPORIUM_TEMPLATES_DIR=$top/templates
EMPORIUM_MEDIA_DIR=$dir/media
EMPORIUM_JOB_POLL_MS=${STACK_JOB_POLL_MS:-200}
EMPORIUM_SSLCOMMERZ_STORE_ID=emporium-demo
EMPORIUM_SSLCOMMERZ_STORE_PASSWORD=$(cat "$dir/secrets/sslcommerz")
EMPORIUM_SSLCOMMERZ_BASE_URL=$(cat "$dir/run/sslcommerz.base")
EMPORIUM_SHOP_URL=https://localhost:$(cat "$dir/run/https.port")
EMPORIUM_PAYMENT_RECONCILE_AFTER=${STACK_PAYMENT_RECONCILE_AFTER:-600}
ENV
	[ -z "${STACK_ENV_EXTRA:-}" ] || printf '%s\n' "$STACK_ENV_EXTRA" >> "$dir/emporium.env"
	EMPORIUM_ENV_FILE="$dir/emporium.env" "$bin/emporium-admin" migrate \
		>>"$dir/logs/admin.log" 2>&1 || die "migrate failed (see $dir/logs/admin.log)"
	EMPORIUM_ENV_FILE="$dir/emporium.env" ${STACK_WRAPPER:-} "$bin/emporium-fcgi" \
		>>"$dir/logs/fcgi.log" 2>&1 &
	echo $! > "$dir/run/fcgi.pid"
	wait_for 15 test -S "$dir/run/fcgi.sock" || die "emporium-fcgi did not start (see $dir/logs/fcgi.log)"
}

# The job worker. A stack without it cannot send mail, so its absence is an
# error, not something to skip: suites that wait for mail would fail late.
worker_start() {
	local dir=$1 bin=${STACK_BIN_DIR:-$top}
	[ -x "$bin/emporium-worker" ] || die "no $bin/emporium-worker (build it first)"
	EMPORIUM_ENV_FILE="$dir/emporium.env" ${STACK_WRAPPER:-} "$bin/emporium-worker" \
		>>"$dir/logs/worker.log" 2>&1 &
	echo $! > "$dir/run/worker.pid"
}

nginx_start() {
	local dir=$1 https http
	https=$(cat "$dir/run/https.port"); http=$(cat "$dir/run/http.port")
	mkdir -p "$dir/nginx" "$dir/media" "$dir/admin"
	local admin_root=${STACK_ADMIN_ROOT:-$top/web/admin/dist}
	if [ ! -d "$admin_root" ]; then
		# not built: a placeholder page, so /admin/ answers with its headers
		admin_root="$dir/admin"
		printf '<!doctype html><title>Emporium admin</title><p>The admin panel is not built.</p>\n' \
			>"$admin_root/index.html"
	fi
	# Every NGX_* setting, with STACK_NGX_* overrides for tests and benches.
	(
		export NGX_PREFIX="$dir/nginx" NGX_HTTPS_PORT="$https" NGX_HTTP_PORT="$http" \
			NGX_SERVER_NAME="localhost 127.0.0.1" \
			NGX_UPSTREAMS="unix:$dir/run/fcgi.sock" \
			NGX_CERT="$dir/tls/cert.pem" NGX_KEY="$dir/tls/key.pem" \
			NGX_MEDIA_ROOT="$dir/media" NGX_ADMIN_ROOT="$admin_root" \
			NGX_CORS_ORIGINS="${STACK_NGX_CORS_ORIGINS:-https://localhost:$https}" \
			NGX_API_RATE="${STACK_NGX_API_RATE:-50r/s}" NGX_API_BURST="${STACK_NGX_API_BURST:-100}" \
			NGX_AUTH_RATE="${STACK_NGX_AUTH_RATE:-5r/s}" NGX_AUTH_BURST="${STACK_NGX_AUTH_BURST:-10}" \
			NGX_CONN_PER_IP="${STACK_NGX_CONN_PER_IP:-100}" \
			NGX_SITE_CONF="$dir/nginx/conf/emporium.conf"
		"$top/nginx/render.sh" --mode local --template "$top/nginx/emporium.conf.in" \
			--out "$dir/nginx/conf/emporium.conf"
		"$top/nginx/render.sh" --mode local --template "$top/nginx/local.conf.in" \
			--out "$dir/nginx/conf/nginx.conf"
	) || die "rendering the nginx config failed"
	nginx -t -q -p "$dir/nginx" -c "$dir/nginx/conf/nginx.conf" -e "$dir/nginx/logs/error.log" \
		2>>"$dir/logs/nginx-t.log" || die "nginx -t failed (see $dir/logs/nginx-t.log)"
	nginx -p "$dir/nginx" -c "$dir/nginx/conf/nginx.conf" -e "$dir/nginx/logs/error.log" \
		-g 'daemon off;' >>"$dir/logs/nginx.log" 2>&1 &
	echo $! > "$dir/run/nginx.pid"
	wait_for 15 bash -c "exec 3<>/dev/tcp/127.0.0.1/$https" || die "nginx did not start (see $dir/nginx/logs/error.log)"
}

cmd_start() {
	local dir=$1 p
	mkdir -p "$dir/run" "$dir/logs"
	for p in https http; do
		local var="STACK_${p^^}_PORT"
		local val=${!var:-0}
		[ "$val" != 0 ] || val=$(free_port)
		echo "$val" > "$dir/run/$p.port"
	done
	mongo_start "$dir"
	smtp_start "$dir"
	tls_make "$dir"
	sslcommerz_start "$dir"
	fcgi_start "$dir"
	worker_start "$dir"
	nginx_start "$dir"
	cat > "$dir/stack.env" <<ENV
STACK_DIR=$dir
STACK_BASE=https://127.0.0.1:$(cat "$dir/run/https.port")
STACK_HTTP_BASE=http://127.0.0.1:$(cat "$dir/run/http.port")
STACK_MONGODB_URI=$(cat "$dir/run/mongo.uri")
STACK_SMTP_PORT=$(cat "$dir/run/smtp.port")
STACK_MAIL_DIR=$dir/mail
STACK_CA=$dir/tls/cert.pem
STACK_JWT_SECRET=$(cat "$dir/secrets/jwt")
STACK_ENV_FILE=$dir/emporium.env
STACK_SSLCOMMERZ_BASE=$(cat "$dir/run/sslcommerz.base")
STACK_SSLCOMMERZ_PASSWORD=$(cat "$dir/secrets/sslcommerz")
STACK_RACE_WORKERS=${STACK_RACE_WORKERS:-8}
STACK_NGX_AUTH_RATE=${STACK_NGX_AUTH_RATE:-5r/s}
STACK_NGX_AUTH_BURST=${STACK_NGX_AUTH_BURST:-10}
ENV
}

cmd_stop() {
	local dir=$1
	stop_pidfile "$dir/run/nginx.pid" 10
	stop_pidfile "$dir/run/fcgi.pid" 40
	stop_pidfile "$dir/run/worker.pid" 70
	stop_pidfile "$dir/run/smtp.pid" 5
	stop_pidfile "$dir/run/sslcommerz.pid" 5
	stop_pidfile "$dir/run/mongo.pid" 10
}

# What a sanitizer prints (ASan, LSan, UBSan) and how the master reports a
# worker that crashed (SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGSEGV); workers the
# tests kill on purpose die of SIGKILL or SIGALRM (the request timeout).
# A sanitizer's own trouble (a suppressions file it cannot read) counts too:
# it would silently turn the leak check off.
LOG_SANITIZER_RE='ERROR: (AddressSanitizer|LeakSanitizer)|^(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer):|LeakSanitizer has encountered|runtime error:|SUMMARY: UndefinedBehaviorSanitizer'
LOG_CRASH_RE='killed by signal (4|6|7|8|11)[^0-9]'

cmd_check_logs() {
	local dir=$1 pass=0 fail=0 logs name re
	shopt -s nullglob
	logs=("$dir"/logs/*.log)
	[ ${#logs[@]} -gt 0 ] || { echo "no logs in $dir/logs"; echo "0 passed, 1 failed"; return 1; }
	for name in sanitizer crash; do
		if [ "$name" = sanitizer ]; then re=$LOG_SANITIZER_RE; else re=$LOG_CRASH_RE; fi
		if grep -qE "$re" "${logs[@]}"; then
			echo "not ok - $name reports in the servers' logs:"
			grep -HE -A40 "$re" "${logs[@]}" | head -200
			fail=$((fail + 1))
		else
			echo "ok - no $name reports in ${logs[*]##*/}"
			pass=$((pass + 1))
		fi
	done
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}

case "${1:-}" in
start) [ -n "${2:-}" ] || die "usage: stack.sh start DIR"; cmd_start "$(realpath -m "$2")" ;;
stop) [ -n "${2:-}" ] || die "usage: stack.sh stop DIR"; cmd_stop "$(realpath -m "$2")" ;;
mongo-stop) stop_pidfile "$(realpath -m "$2")/run/mongo.pid" 10 ;;
check-logs) [ -n "${2:-}" ] || die "usage: stack.sh check-logs DIR"; cmd_check_logs "$(realpath -m "$2")" ;;
mongo-start) d=$(realpath -m "$2"); STACK_MONGO_PORT=$(cat "$d/run/mongo.port") mongo_start "$d" ;;
*) die "usage: stack.sh start|stop|mongo-stop|mongo-start|check-logs DIR" ;;
esac
