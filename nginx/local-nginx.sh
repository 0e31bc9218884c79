#!/usr/bin/env bash
# local-nginx.sh — run Emporium's nginx for development and tests, as a
# normal user or root, everything under NGX_PREFIX.
#
#   NGX_PREFIX=/tmp/emporium-nginx NGX_HTTPS_PORT=8443 NGX_HTTP_PORT=8080 \
#   NGX_UPSTREAMS=unix:/tmp/emporium/fcgi.sock nginx/local-nginx.sh start
#   nginx/local-nginx.sh stop|reload|test|run      (same NGX_PREFIX)
#
#   start   render both configs (self-signed cert if NGX_CERT/NGX_KEY do
#           not exist), check them, start nginx in the background
#   run     the same, in the foreground (daemon off; Ctrl-C stops it)
#   reload  re-render, check, and SIGHUP the running master
#   test    render and `nginx -t` only
#   stop    graceful stop (SIGQUIT), waits for the master to exit
#
# All NGX_* variables of nginx/render.sh apply (nginx/render.sh --help).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { printf 'local-nginx.sh: error: %s\n' "$*" >&2; exit 1; }
[ -n "${NGX_PREFIX:-}" ] || die "set NGX_PREFIX (a writable directory for nginx's files)"
mkdir -p "$NGX_PREFIX"
P=$(cd "$NGX_PREFIX" && pwd)
export NGX_PREFIX=$P
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "nginx not found (apt-get install -y nginx-light)"
conf="$P/conf/nginx.conf"
ngx() { "$NGINX" -p "$P" -c "$conf" -e "$P/logs/error.log" "$@"; }

render() {
	"$here/render.sh" --mode local --self-signed --template "$here/emporium.conf.in" \
		--out "${NGX_SITE_CONF:-$P/conf/emporium.conf}"
	"$here/render.sh" --mode local --template "$here/local.conf.in" --out "$conf"
	ngx -t -q
}
running() { [ -s "$P/logs/nginx.pid" ] && kill -0 "$(cat "$P/logs/nginx.pid")" 2>/dev/null; }

case ${1:-} in
start)
	running && die "already running (pid $(cat "$P/logs/nginx.pid"))"
	render
	ngx
	for _ in $(seq 50); do running && break; sleep 0.1; done
	running || die "nginx did not start; see $P/logs/error.log"
	echo "nginx running: pid $(cat "$P/logs/nginx.pid"), prefix $P"
	;;
run)
	render
	exec "$NGINX" -p "$P" -c "$conf" -e "$P/logs/error.log" -g 'daemon off;'
	;;
reload)
	running || die "not running"
	render
	ngx -s reload
	;;
test)
	render
	echo "ok: $conf"
	;;
stop)
	running || { echo "not running"; exit 0; }
	pid=$(cat "$P/logs/nginx.pid")
	ngx -s quit
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$pid" 2>/dev/null || die "master $pid still running"
	;;
*)
	sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
