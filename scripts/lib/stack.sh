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
#   stack.sh smtp-stop DIR / smtp-start DIR     (the SMTP catcher, same port)
#   stack.sh check-logs DIR  after a test run: no sanitizer report and no
#                          crashed server in the logs ("N passed, N failed")
#   stack.sh cluster-start DIR N / cluster-stop DIR / cluster-status DIR
#   stack.sh host-down DIR K [--link] / host-up DIR K
#                          the multi-host mode behind scripts/cluster: N app
#                          hosts in network namespaces, one nginx, one
#                          database (see scripts/cluster --help)
#
# Ports come from STACK_HTTPS_PORT, STACK_HTTP_PORT, STACK_SMTP_PORT and
# STACK_MONGO_PORT; 0 or unset picks a free one. STACK_BIN_DIR holds the
# built programs (default: the checkout). STACK_MONGO_DBPATH keeps the
# stand-in's data across restarts. STACK_TXN_LIFETIME_S: the database's
# transaction lifetime (how long a killed worker's transaction holds its
# documents; the README advises the request timeout). STACK_NGX_*
# overrides NGX_* for nginx.
# STACK_BIND_HOST is the address the database, the SMTP catcher and the
# payment stand-in listen on (default 127.0.0.1; the cluster mode sets its
# bridge's address so the host namespaces reach them).
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

bind_host() { echo "${STACK_BIND_HOST:-127.0.0.1}"; }

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
	local dir=$1 port host
	host=$(bind_host)
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
		local params=()
		[ -z "${STACK_TXN_LIFETIME_S:-}" ] ||
			params=(--setParameter "transactionLifetimeLimitSeconds=$STACK_TXN_LIFETIME_S")
		mongod --replSet rs0 --bind_ip "$host" --port "$port" --dbpath "$dir/mongod" ${params[@]+"${params[@]}"} \
			>"$dir/logs/mongod.log" 2>&1 &
		echo $! > "$dir/run/mongo.pid"
		wait_for 30 bash -c "exec 3<>/dev/tcp/$host/$port" || die "mongod did not start"
		command -v mongosh >/dev/null &&
			mongosh --quiet --host "$host" --port "$port" --eval \
			"try{rs.status()}catch(e){rs.initiate({_id:'rs0',members:[{_id:0,host:'$host:$port'}]})}" \
			>/dev/null 2>&1 || true
		say "database: mongod on $host:$port"
	else
		[ -d "$top/tests/mongo-standin/node_modules" ] ||
			(cd "$top/tests/mongo-standin" && npm ci --no-audit --no-fund --silent) ||
			die "npm ci in tests/mongo-standin failed"
		# TTL sweep every STACK_STANDIN_TTL_MS, by default mongod's 60 s (no
		# suite needs faster expiry; one that does sets it). Test commands:
		# configureFailPoint.
		local args=(--host "$host" --port "$port" --repl-set rs0 --ttl-interval-ms "${STACK_STANDIN_TTL_MS:-60000}" --enable-test-commands)
		[ -z "${STACK_TXN_LIFETIME_S:-}" ] || args+=(--txn-lifetime-seconds "$STACK_TXN_LIFETIME_S")
		[ -n "${STACK_MONGO_DBPATH:-}" ] && mkdir -p "$STACK_MONGO_DBPATH" &&
			args+=(--dbpath "$STACK_MONGO_DBPATH")
		rm -f "$dir/logs/mongo.out" # a ready line from an earlier run would fool the wait
		node "$top/tests/mongo-standin/server.js" "${args[@]}" \
			>"$dir/logs/mongo.out" 2>>"$dir/logs/mongo.log" &
		echo $! > "$dir/run/mongo.pid"
		wait_for 30 grep -q ready "$dir/logs/mongo.out" || die "the stand-in did not start (see $dir/logs/mongo.log)"
		say "database: mongo-standin on $host:$port"
	fi
	echo "mongodb://$host:$port/?replicaSet=rs0" > "$dir/run/mongo.uri"
}

smtp_start() {
	local dir=$1 port=${STACK_SMTP_PORT:-0}
	[ "$port" != 0 ] || port=$(free_port)
	echo "$port" > "$dir/run/smtp.port"
	mkdir -p "$dir/mail"
	/usr/bin/python3 "$top/scripts/lib/smtp-catcher.py" --host "$(bind_host)" --port "$port" --dir "$dir/mail" \
		>"$dir/logs/smtp.log" 2>&1 &
	echo $! > "$dir/run/smtp.pid"
	wait_for 15 bash -c "exec 3<>/dev/tcp/$(bind_host)/$port" || die "the SMTP catcher did not start"
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
	node "$top/tests/sslcommerz-standin/server.js" --host "$(bind_host)" --port "$port" --store-id emporium-demo \
		--store-password "$(cat "$dir/secrets/sslcommerz")" --ca "$dir/tls/cert.pem" \
		>"$dir/logs/sslcommerz.out" 2>>"$dir/logs/sslcommerz.log" &
	echo $! > "$dir/run/sslcommerz.pid"
	wait_for 15 grep -q 'ready on' "$dir/logs/sslcommerz.out" || die "the SSLCOMMERZ stand-in did not start"
	echo "http://$(sed -n 's/.*ready on //p' "$dir/logs/sslcommerz.out")" > "$dir/run/sslcommerz.base"
}

# env_write DIR FILE LISTEN [FCGI_ALLOWED]: the app's environment file for
# one host of the stack (the single stack has one, a cluster one a host).
env_write() {
	local dir=$1 file=$2 listen=$3 allowed=${4:-}
	# Secrets are made at first start and kept with the stack's state.
	[ -s "$dir/secrets/jwt" ] || { mkdir -p "$dir/secrets" && chmod 700 "$dir/secrets" &&
		openssl rand -hex 32 > "$dir/secrets/jwt"; }
	mkdir -p "$dir/media"
	cat > "$file" <<ENV
# Written by scripts/lib/stack.sh for this local stack.
EMPORIUM_LISTEN=$listen
${allowed:+EMPORIUM_FCGI_ALLOWED=$allowed}
EMPORIUM_SOCKET_MODE=0666
EMPORIUM_WORKERS=${STACK_WORKERS:-0}
EMPORIUM_MONGODB_URI=$(cat "$dir/run/mongo.uri")
EMPORIUM_DB_NAME=${STACK_DB_NAME:-emporium}
EMPORIUM_DB_TIMEOUT_MS=${STACK_DB_TIMEOUT_MS:-1500}
EMPORIUM_PUBLIC_URL=https://localhost:$(cat "$dir/run/https.port")
EMPORIUM_LOG_LEVEL=${STACK_LOG_LEVEL:-info}
EMPORIUM_JWT_SECRET=$(cat "$dir/secrets/jwt")
EMPORIUM_SMTP_URL=smtp://$(bind_host):$(cat "$dir/run/smtp.port")
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
	[ -z "${STACK_ENV_EXTRA:-}" ] || printf '%s\n' "$STACK_ENV_EXTRA" >> "$file"
}

fcgi_start() {
	local dir=$1 bin=${STACK_BIN_DIR:-$top}
	env_write "$dir" "$dir/emporium.env" "unix:$dir/run/fcgi.sock"
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
			NGX_UPSTREAMS="${STACK_NGX_UPSTREAMS:-unix:$dir/run/fcgi.sock}" \
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

ports_pick() {
	local dir=$1 p
	for p in https http; do
		local var="STACK_${p^^}_PORT"
		local val=${!var:-0}
		[ "$val" != 0 ] || val=$(free_port)
		echo "$val" > "$dir/run/$p.port"
	done
}

cmd_start() {
	local dir=$1
	mkdir -p "$dir/run" "$dir/logs"
	ports_pick "$dir"
	mongo_start "$dir"
	smtp_start "$dir"
	tls_make "$dir"
	sslcommerz_start "$dir"
	fcgi_start "$dir"
	worker_start "$dir"
	nginx_start "$dir"
	stack_env_write "$dir" "$dir/emporium.env"
}

# stack_env_write DIR ENV_FILE: DIR/stack.env, what the suites source.
stack_env_write() {
	local dir=$1
	cat > "$dir/stack.env" <<ENV
STACK_DIR=$dir
STACK_BASE=https://127.0.0.1:$(cat "$dir/run/https.port")
STACK_HTTP_BASE=http://127.0.0.1:$(cat "$dir/run/http.port")
STACK_MONGODB_URI=$(cat "$dir/run/mongo.uri")
STACK_SMTP_PORT=$(cat "$dir/run/smtp.port")
STACK_MAIL_DIR=$dir/mail
STACK_CA=$dir/tls/cert.pem
STACK_JWT_SECRET=$(cat "$dir/secrets/jwt")
STACK_ENV_FILE=$2
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

# ---------------------------------------------------------- cluster mode
# N app hosts on one machine (scripts/cluster is its documented front).
# Host K is the network namespace PREFIX-hK with a veth pair (PREFIX-hK-r
# in the root namespace, eth0 inside) on the bridge PREFIX-br: NET.1/24 is
# the root namespace's side (nginx's address, and where the database, the
# SMTP catcher and the payment stand-in listen), NET.(10+K) the host's.
# Each host runs emporium-fcgi on NET.(10+K):9000 with EMPORIUM_FCGI_ALLOWED
# = NET.1 and an emporium-worker; nginx (root namespace) has every host in
# its upstream. Nothing listens beyond loopback and that bridge.
CLUSTER_FCGI_PORT=9000

cluster_conf() {
	[ -f "$1/run/cluster.conf" ] || die "$1 is not a cluster (no run/cluster.conf)"
	# shellcheck disable=SC1091
	. "$1/run/cluster.conf"
}
host_ns() { echo "$CLUSTER_PREFIX-h$1"; }
host_addr() { echo "$CLUSTER_NET.$((10 + $1))"; }
host_check() { # host_check K: a host of this cluster
	[[ $1 =~ ^[1-9]$ ]] && [ "$1" -le "$CLUSTER_HOSTS" ] || die "no host '$1' (1..$CLUSTER_HOSTS)"
}

cluster_need_root() {
	[ "$(id -u)" = 0 ] || die "the cluster mode needs root (it makes network namespaces)"
	command -v ip >/dev/null || die "no ip command (apt-get install iproute2)"
}

cluster_net_up() {
	local k ns br=$CLUSTER_PREFIX-br
	for k in $(seq "$CLUSTER_HOSTS"); do
		ns=$(host_ns "$k")
		! ip netns list | grep -qw "$ns" || die "namespace $ns exists already (another cluster with CLUSTER_PREFIX=$CLUSTER_PREFIX?)"
	done
	! ip link show "$br" >/dev/null 2>&1 || die "$br exists already (another cluster with CLUSTER_PREFIX=$CLUSTER_PREFIX?)"
	# the network must be ours alone: no address of it anywhere yet
	! ip -4 -o addr show | grep -q " $CLUSTER_NET\." ||
		die "$CLUSTER_NET.0/24 is in use on this machine (CLUSTER_NET=... for another)"
	ip link add "$br" type bridge
	ip addr add "$CLUSTER_NET.1/24" dev "$br"
	ip link set "$br" up
	for k in $(seq "$CLUSTER_HOSTS"); do
		ns=$(host_ns "$k")
		ip netns add "$ns"
		ip link add "$ns-r" type veth peer name "$ns-n"
		ip link set "$ns-n" netns "$ns"
		ip link set "$ns-r" master "$br" up
		ip -n "$ns" link set lo up
		ip -n "$ns" link set "$ns-n" name eth0
		ip -n "$ns" addr add "$(host_addr "$k")/24" dev eth0
		ip -n "$ns" link set eth0 up
	done
}

# host_kill K SIGNAL: every process in host K's namespace.
host_kill() {
	local ns pids
	ns=$(host_ns "$1")
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	[ -z "$pids" ] || kill "-$2" $pids 2>/dev/null || true
}

host_start() {
	local dir=$1 k=$2 bin=${STACK_BIN_DIR:-$top} ns addr env
	ns=$(host_ns "$k"); addr=$(host_addr "$k"); env=$dir/hosts/h$k/emporium.env
	EMPORIUM_ENV_FILE="$env" ip netns exec "$ns" ${STACK_WRAPPER:-} "$bin/emporium-fcgi" \
		>>"$dir/logs/h$k-fcgi.log" 2>&1 &
	echo $! > "$dir/run/h$k-fcgi.pid"
	EMPORIUM_ENV_FILE="$env" ip netns exec "$ns" ${STACK_WRAPPER:-} "$bin/emporium-worker" \
		>>"$dir/logs/h$k-worker.log" 2>&1 &
	echo $! > "$dir/run/h$k-worker.pid"
	wait_for 15 bash -c "exec 3<>/dev/tcp/$addr/$CLUSTER_FCGI_PORT" ||
		die "host $k: emporium-fcgi does not listen on $addr:$CLUSTER_FCGI_PORT (see $dir/logs/h$k-fcgi.log)"
}

host_stop() { # graceful: as stop does for one stack, then whatever is left
	local dir=$1 k=$2
	stop_pidfile "$dir/run/h$k-fcgi.pid" 40
	stop_pidfile "$dir/run/h$k-worker.pid" 70
	host_kill "$k" KILL
}

cmd_cluster_start() {
	local dir=$1 n=$2 k ups=''
	cluster_need_root
	[[ $n =~ ^[1-9]$ ]] || die "--hosts must be 1..9, not '$n'"
	CLUSTER_PREFIX=${CLUSTER_PREFIX:-em} CLUSTER_NET=${CLUSTER_NET:-10.213.0} CLUSTER_HOSTS=$n
	[[ $CLUSTER_PREFIX =~ ^[a-z][a-z0-9]{0,7}$ ]] || die "CLUSTER_PREFIX='$CLUSTER_PREFIX': 1-8 lower-case letters and digits"
	[[ $CLUSTER_NET =~ ^(10\.[0-9]{1,3}|192\.168|172\.(1[6-9]|2[0-9]|3[01]))\.[0-9]{1,3}$ ]] ||
		die "CLUSTER_NET='$CLUSTER_NET': the first three parts of a private /24, like 10.213.0"
	if [ -n "${MONGODB_URI:-}" ] && [[ $MONGODB_URI =~ (127\.|localhost|\[::1\]) ]]; then
		die "MONGODB_URI names loopback, which the host namespaces cannot reach: give an address they can"
	fi
	[ ! -f "$dir/run/cluster.conf" ] || die "$dir holds a cluster already (scripts/cluster down $dir first)"
	mkdir -p "$dir/run" "$dir/logs"
	# what host-up needs to start a host again like the others
	printf 'CLUSTER_PREFIX=%s\nCLUSTER_NET=%s\nCLUSTER_HOSTS=%s\nSTACK_BIN_DIR=%q\n' \
		"$CLUSTER_PREFIX" "$CLUSTER_NET" "$CLUSTER_HOSTS" "$(realpath "${STACK_BIN_DIR:-$top}")" \
		> "$dir/run/cluster.conf"
	# a start that fails half way leaves nothing behind
	trap 'say "the cluster did not start: taking down what did"; cmd_cluster_stop "$dir" >/dev/null 2>&1' EXIT
	cluster_net_up
	export STACK_BIND_HOST=$CLUSTER_NET.1
	ports_pick "$dir"
	mongo_start "$dir"
	smtp_start "$dir"
	tls_make "$dir"
	sslcommerz_start "$dir"
	for k in $(seq "$n"); do
		mkdir -p "$dir/hosts/h$k"
		env_write "$dir" "$dir/hosts/h$k/emporium.env" "$(host_addr "$k"):$CLUSTER_FCGI_PORT" "$CLUSTER_NET.1"
		ups+="$(host_addr "$k"):$CLUSTER_FCGI_PORT "
	done
	# one migration for the shared database, from the root namespace
	EMPORIUM_ENV_FILE="$dir/hosts/h1/emporium.env" "${STACK_BIN_DIR:-$top}/emporium-admin" migrate \
		>>"$dir/logs/admin.log" 2>&1 || die "migrate failed (see $dir/logs/admin.log)"
	for k in $(seq "$n"); do host_start "$dir" "$k"; done
	STACK_NGX_UPSTREAMS=${ups% } nginx_start "$dir"
	stack_env_write "$dir" "$dir/hosts/h1/emporium.env"
	cat >> "$dir/stack.env" <<ENV
CLUSTER_PREFIX=$CLUSTER_PREFIX
CLUSTER_NET=$CLUSTER_NET
CLUSTER_HOSTS=$CLUSTER_HOSTS
CLUSTER_UPSTREAMS="${ups% }"
CLUSTER_ACCESS_LOG=$dir/nginx/logs/access.log
ENV
	trap - EXIT
	say "cluster up: $n hosts (${ups% }), nginx on https://127.0.0.1:$(cat "$dir/run/https.port")"
}

cmd_cluster_stop() {
	local dir=$1 k ns
	cluster_conf "$dir"
	stop_pidfile "$dir/run/nginx.pid" 10 || true
	for k in $(seq "$CLUSTER_HOSTS"); do host_stop "$dir" "$k" || true; done
	stop_pidfile "$dir/run/smtp.pid" 5 || true
	stop_pidfile "$dir/run/sslcommerz.pid" 5 || true
	stop_pidfile "$dir/run/mongo.pid" 10 || true
	for k in $(seq "$CLUSTER_HOSTS"); do
		ns=$(host_ns "$k")
		ip link del "$ns-r" 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	ip link del "$CLUSTER_PREFIX-br" 2>/dev/null || true
	rm -f "$dir/run/cluster.conf"
}

# host-down K: the host dies (every process in its namespace SIGKILLed);
# host-down K --link: its cable is cut (the veth set down; the processes
# keep running, unreachable). host-up K undoes either.
cmd_host_down() {
	local dir=$1 k=$2 how=${3:-}
	cluster_conf "$dir"; host_check "$k"
	case $how in
	--link) ip link set "$(host_ns "$k")-r" down ;;
	"") host_kill "$k" KILL; rm -f "$dir/run/h$k-fcgi.pid" "$dir/run/h$k-worker.pid" ;;
	*) die "host-down DIR K [--link]" ;;
	esac
}

cmd_host_up() {
	local dir=$1 k=$2
	cluster_conf "$dir"; host_check "$k"
	ip link set "$(host_ns "$k")-r" up
	if pid_alive "$dir/run/h$k-fcgi.pid"; then
		wait_for 15 bash -c "exec 3<>/dev/tcp/$(host_addr "$k")/$CLUSTER_FCGI_PORT" ||
			die "host $k does not answer on $(host_addr "$k"):$CLUSTER_FCGI_PORT"
	else
		host_kill "$k" KILL # a half-dead host's leftovers
		host_start "$dir" "$k"
	fi
}

cmd_cluster_status() {
	local dir=$1 k ns link fcgi workers worker rc=0
	cluster_conf "$dir"
	printf '%-4s %-10s %-13s %-5s %-16s %-8s %s\n' HOST NAMESPACE ADDRESS LINK FCGI WORKERS JOBWORKER
	for k in $(seq "$CLUSTER_HOSTS"); do
		ns=$(host_ns "$k")
		link=$(ip -o link show "$ns-r" 2>/dev/null | grep -q 'state UP\|,UP' && echo up || echo down)
		if pid_alive "$dir/run/h$k-fcgi.pid"; then
			fcgi="up (pid $(cat "$dir/run/h$k-fcgi.pid"))"
			workers=$(ps -o pid= --ppid "$(cat "$dir/run/h$k-fcgi.pid")" | wc -l)
		else fcgi=down workers=0 rc=1; fi
		if pid_alive "$dir/run/h$k-worker.pid"; then worker="up (pid $(cat "$dir/run/h$k-worker.pid"))"
		else worker=down rc=1; fi
		[ "$link" = up ] || rc=1
		printf '%-4s %-10s %-13s %-5s %-16s %-8s %s\n' "$k" "$ns" "$(host_addr "$k"):$CLUSTER_FCGI_PORT" \
			"$link" "$fcgi" "$workers" "$worker"
	done
	pid_alive "$dir/run/nginx.pid" && echo "nginx: up, https://127.0.0.1:$(cat "$dir/run/https.port")" || { echo "nginx: down"; rc=1; }
	pid_alive "$dir/run/mongo.pid" && echo "database: up, $(cat "$dir/run/mongo.uri")" ||
		{ [ -n "${MONGODB_URI:-}" ] && echo "database: external" || { echo "database: down"; rc=1; }; }
	pid_alive "$dir/run/smtp.pid" && echo "smtp catcher: up, $CLUSTER_NET.1:$(cat "$dir/run/smtp.port")" || { echo "smtp catcher: down"; rc=1; }
	return $rc
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
mongo-start) d=$(realpath -m "$2")
	if [ -f "$d/run/cluster.conf" ]; then . "$d/run/cluster.conf"; export STACK_BIND_HOST=$CLUSTER_NET.1; fi
	STACK_MONGO_PORT=$(cat "$d/run/mongo.port") mongo_start "$d" ;;
smtp-stop) stop_pidfile "$(realpath -m "$2")/run/smtp.pid" 5 ;;
smtp-start) d=$(realpath -m "$2")
	if [ -f "$d/run/cluster.conf" ]; then . "$d/run/cluster.conf"; export STACK_BIND_HOST=$CLUSTER_NET.1; fi
	STACK_SMTP_PORT=$(cat "$d/run/smtp.port") smtp_start "$d" ;;
cluster-start) [ -n "${2:-}" ] && [ -n "${3:-}" ] || die "usage: stack.sh cluster-start DIR N"
	cmd_cluster_start "$(realpath -m "$2")" "$3" ;;
cluster-stop) [ -n "${2:-}" ] || die "usage: stack.sh cluster-stop DIR"; cmd_cluster_stop "$(realpath -m "$2")" ;;
cluster-status) [ -n "${2:-}" ] || die "usage: stack.sh cluster-status DIR"; cmd_cluster_status "$(realpath -m "$2")" ;;
host-down) [ -n "${3:-}" ] || die "usage: stack.sh host-down DIR K [--link]"; cmd_host_down "$(realpath -m "$2")" "$3" "${4:-}" ;;
host-up) [ -n "${3:-}" ] || die "usage: stack.sh host-up DIR K"; cmd_host_up "$(realpath -m "$2")" "$3" ;;
*) die "usage: stack.sh start|stop|mongo-stop|mongo-start|smtp-stop|smtp-start|check-logs|cluster-start|cluster-stop|cluster-status|host-down|host-up DIR" ;;
esac
