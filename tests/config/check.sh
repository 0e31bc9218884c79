#!/usr/bin/env bash
# tests/config/check.sh — checks of the shipped nginx and systemd configs.
#
#   bash tests/config/check.sh            (from anywhere; root or a normal user)
#
# 1. nginx/render.sh: renders the production site config with test values,
#    wraps it with nginx/local.conf.in and runs `nginx -t`; also inside a
#    copy of Debian's /etc/nginx/nginx.conf; renders local.conf for the
#    normal-user mode and checks it as a normal user; static assertions on
#    the rendered config (headers in every location that adds any, TLS,
#    FastCGI, CORS, placeholders).
# 2. systemd/: renders the units (@bindir@ -> stub executables in a temp
#    root, @sysconfdir@ -> /etc, @localstatedir@ -> /var), runs
#    `systemd-analyze verify` and `systemd-analyze security --offline`,
#    asserts the required directives, and applies sysusers/tmpfiles to a
#    temp root.
# 3. Live: starts nginx (local config, free high ports, current user) with
#    the upstream on a unix socket nothing listens on, checks redirects,
#    headers, problem+json errors, CORS, body limits, rate limits, media and
#    admin over HTTPS with curl; then starts a FastCGI stub on that socket
#    (tests/config/fcgi_stub.py, needs /usr/bin/python3) and checks what
#    passes between nginx and the app, and the micro-cache. Stops nginx.
#
# Output: "ok - NAME" / "not ok - NAME" per check (details as "#" lines),
# then exactly "N passed, N failed"; exit status 1 on any failure.
set -u
shopt -u patsub_replacement 2>/dev/null || true

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
render="$root/nginx/render.sh"

pass=0 fail=0
ok() { printf 'ok - %s\n' "$1"; pass=$((pass + 1)); }
notok() {
	printf 'not ok - %s\n' "$1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | head -n 15 | sed 's/^/#   /'
	fail=$((fail + 1))
}
# check NAME CMD...: ok when CMD succeeds; its output is shown on failure.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$name"; else notok "$name" "$out"; fi
}
note() { printf '# %s\n' "$*"; }
finish() {
	printf '%s passed, %s failed\n' "$pass" "$fail"
	[ "$fail" -eq 0 ]
	exit
}

# ------------------------------------------------------------ tools
need_tool() { # need_tool COMMAND DEBIAN_PACKAGE
	command -v "$1" >/dev/null 2>&1 && return 0
	[ -x "/usr/sbin/$1" ] && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		note "installing $2 for $1"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null 2>&1 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1; }
	fi
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]
}
PATH="$PATH:/usr/sbin:/sbin"
for t in "nginx nginx-light" "openssl openssl" "curl curl" "systemd-analyze systemd"; do
	set -- $t
	if ! need_tool "$1" "$2"; then notok "tool $1 available (apt-get install -y $2)"; fi
done
command -v nginx >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 &&
	command -v curl >/dev/null 2>&1 || finish

# ------------------------------------------------------------ workspace
W=$(mktemp -d "${TMPDIR:-/tmp}/emporium-config-check.XXXXXX")
chmod 755 "$W"
started_pids=()
cleanup() {
	local p
	for p in "${started_pids[@]+"${started_pids[@]}"}"; do
		kill "$p" 2>/dev/null
	done
	if [ -f "$W/live/logs/nginx.pid" ]; then
		kill -QUIT "$(cat "$W/live/logs/nginx.pid")" 2>/dev/null
		sleep 0.3
	fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Throwaway self-signed certificate for every nginx run below.
mkdir -p "$W/tls"
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$W/tls/key.pem" -out "$W/tls/cert.pem" -days 2 -subj /CN=localhost \
	-addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' >/dev/null 2>&1; then
	chmod 644 "$W/tls/key.pem" # readable by the normal-user run below (test key)
	ok "self-signed test certificate created (openssl)"
else
	notok "self-signed test certificate created (openssl)"
	finish
fi

# ====================================================== 1. nginx render
# Run render.sh with only the given NGX_* variables set.
render_env() { env -u NGX_PREFIX -u NGX_MODE "$@"; }

# Failures are clear and early.
out=$(render_env NGX_PREFIX= "$render" --mode local --template "$root/nginx/local.conf.in" --out "$W/x.conf" 2>&1)
if [ $? -ne 0 ] && grep -q 'NGX_PREFIX' <<<"$out"; then
	ok "render.sh: local mode without NGX_PREFIX fails naming NGX_PREFIX"
else notok "render.sh: local mode without NGX_PREFIX fails naming NGX_PREFIX" "$out"; fi
out=$(render_env NGX_CORS_ORIGINS='https://shop.example.com *' "$render" --mode production \
	--template "$root/nginx/emporium.conf.in" --out "$W/x.conf" 2>&1)
if [ $? -ne 0 ] && grep -q 'NGX_CORS_ORIGINS' <<<"$out"; then
	ok "render.sh: refuses '*' in NGX_CORS_ORIGINS"
else notok "render.sh: refuses '*' in NGX_CORS_ORIGINS" "$out"; fi
out=$(render_env NGX_UPSTREAMS='fcgi.sock' "$render" --mode production \
	--template "$root/nginx/emporium.conf.in" --out "$W/x.conf" 2>&1)
if [ $? -ne 0 ] && grep -q 'NGX_UPSTREAMS' <<<"$out"; then
	ok "render.sh: refuses a malformed NGX_UPSTREAMS entry"
else notok "render.sh: refuses a malformed NGX_UPSTREAMS entry" "$out"; fi

# Production rendering with nothing but defaults (what `make install` does).
out=$(render_env "$render" --mode production --template "$root/nginx/emporium.conf.in" \
	--out "$W/prod-default.conf" 2>&1)
if [ $? -eq 0 ] &&
	grep -q 'fastcgi_cache_path /var/cache/nginx/emporium/micro ' "$W/prod-default.conf" &&
	grep -q 'server unix:/run/emporium/fcgi.sock;' "$W/prod-default.conf" &&
	grep -q 'listen 443 ssl http2' "$W/prod-default.conf" &&
	grep -q 'alias /var/lib/emporium/media/' "$W/prod-default.conf" &&
	grep -q 'access_log /var/log/nginx/emporium.access.log emporium_json;' "$W/prod-default.conf" &&
	! grep -qE '@[A-Z][A-Z0-9_]*@|@include' "$W/prod-default.conf"; then
	ok "render.sh: production defaults render (paths under /var, /run; no placeholders left)"
else notok "render.sh: production defaults render (paths under /var, /run; no placeholders left)" "$out"; fi

# Production rendering with test values, wrapped by local.conf.
P="$W/prod"
mkdir -p "$P/media" "$P/admin"
prod_env=(NGX_HTTPS_PORT=8443 NGX_HTTP_PORT=8080 NGX_SERVER_NAME='shop.example.com api.example.com'
	NGX_UPSTREAMS='10.0.0.5:9000 10.0.0.6:9000 unix:/run/emporium/fcgi.sock'
	NGX_CORS_ORIGINS='https://shop.example.com https://admin.example.com'
	NGX_CERT="$W/tls/cert.pem" NGX_KEY="$W/tls/key.pem" NGX_MEDIA_ROOT="$P/media"
	NGX_ADMIN_ROOT="$P/admin" NGX_CACHE_DIR="$P/cache" NGX_ACCESS_LOG="$P/access.log"
	NGX_IPV6=on NGX_TRUSTED_PROXIES='10.0.0.0/8 2001:db8::/32')
check "render.sh: production site config with test values" \
	render_env "${prod_env[@]}" "$render" --mode production \
	--template "$root/nginx/emporium.conf.in" --out "$P/emporium.conf"
check "render.sh: local.conf wrapping the production site config" \
	render_env NGX_PREFIX="$P" NGX_SITE_CONF="$P/emporium.conf" "$render" --mode local \
	--template "$root/nginx/local.conf.in" --out "$P/conf/nginx.conf"
if grep -q '^ *server 10.0.0.6:9000' "$P/emporium.conf" && grep -q '^ *server 10.0.0.5:9000' "$P/emporium.conf" &&
	grep -q '^ *server unix:/run/emporium/fcgi.sock;' "$P/emporium.conf"; then
	ok "rendered upstream lists every NGX_UPSTREAMS entry"
else notok "rendered upstream lists every NGX_UPSTREAMS entry" "$(grep -A5 '^upstream' "$P/emporium.conf")"; fi
# Several hosts (scripts/cluster, tests/cluster): each is skipped after
# max_fails errors for fail_timeout, and listed again as a backup that is
# never marked failed, so a burst of killed workers cannot leave nginx with
# "no live upstreams"; one host alone, or a unix socket, has no backup.
if grep -q '^ *server 10.0.0.5:9000 max_fails=2 fail_timeout=5s;' "$P/emporium.conf" &&
	grep -q '^ *server 10.0.0.6:9000 max_fails=2 fail_timeout=5s;' "$P/emporium.conf" &&
	grep -q '^ *server 10.0.0.5:9000 backup max_fails=0;' "$P/emporium.conf" &&
	grep -q '^ *server 10.0.0.6:9000 backup max_fails=0;' "$P/emporium.conf" &&
	[ "$(grep -c '^ *server .*backup' "$P/emporium.conf")" = 2 ] &&
	! grep -q 'backup' "$W/prod-default.conf" &&
	render_env NGX_UPSTREAMS='10.0.0.5:9000' "$render" --mode production \
		--template "$root/nginx/emporium.conf.in" --out "$W/one-host.conf" &&
	grep -q '^ *server 10.0.0.5:9000 max_fails=2 fail_timeout=5s;' "$W/one-host.conf" &&
	! grep -q 'backup' "$W/one-host.conf"; then
	ok "upstream: every TCP host with max_fails/fail_timeout, and again as a never-failed backup when there are several"
else notok "upstream: every TCP host with max_fails/fail_timeout, and again as a never-failed backup when there are several" \
	"$(grep -A8 '^upstream' "$P/emporium.conf")"; fi
if grep -q '^set_real_ip_from 10.0.0.0/8;' "$P/emporium.conf" &&
	grep -q '^set_real_ip_from 2001:db8::/32;' "$P/emporium.conf" &&
	grep -q '^real_ip_header X-Forwarded-For;' "$P/emporium.conf" &&
	grep -q '^real_ip_recursive on;' "$P/emporium.conf" &&
	! grep -q 'set_real_ip_from' "$W/prod-default.conf"; then
	ok "NGX_TRUSTED_PROXIES: real_ip from the listed proxies only (none by default)"
else notok "NGX_TRUSTED_PROXIES: real_ip from the listed proxies only (none by default)"; fi
if out=$(render_env NGX_TRUSTED_PROXIES='lb.example' "$render" --mode production \
	--template "$root/nginx/emporium.conf.in" --out - 2>&1); then
	notok "render.sh: refuses a host name in NGX_TRUSTED_PROXIES"
elif grep -q NGX_TRUSTED_PROXIES <<<"$out"; then ok "render.sh: refuses a host name in NGX_TRUSTED_PROXIES"
else notok "render.sh: refuses a host name in NGX_TRUSTED_PROXIES" "$out"; fi
if grep -q 'return 301 https://shop.example.com:8443$request_uri;' "$P/emporium.conf"; then
	ok "HTTP->HTTPS redirect goes to the first server name and keeps the HTTPS port (:8443)"
else notok "HTTP->HTTPS redirect goes to the first server name and keeps the HTTPS port (:8443)"; fi
if ! grep -q 'https://$host' "$P/emporium.conf"; then
	ok "no redirect is built from the client's Host header"
else notok "no redirect is built from the client's Host header" "$(grep -n 'https://$host' "$P/emporium.conf")"; fi
check "nginx -t: production site config (test values) inside local.conf" \
	nginx -t -q -p "$P" -c "$P/conf/nginx.conf" -e "$P/logs/error.log"

# Inside Debian's own nginx.conf, as `make install` deploys it (conf.d).
if [ -f /etc/nginx/nginx.conf ] && [ "$(id -u)" = 0 ]; then
	sed -e "s|include /etc/nginx/conf.d/\*.conf;|include $P/emporium.conf;|" \
		-e '/include \/etc\/nginx\/sites-enabled\//d' /etc/nginx/nginx.conf >"$P/debian-nginx.conf"
	if grep -q "include $P/emporium.conf;" "$P/debian-nginx.conf"; then
		check "nginx -t: production site config inside Debian's /etc/nginx/nginx.conf" \
			nginx -t -q -c "$P/debian-nginx.conf"
	else
		notok "nginx -t: production site config inside Debian's /etc/nginx/nginx.conf" \
			"/etc/nginx/nginx.conf has no 'include /etc/nginx/conf.d/*.conf;' line"
	fi
else
	note "skipped: Debian nginx.conf check (needs root and /etc/nginx/nginx.conf)"
fi

# Static assertions on the rendered production config.
conf="$P/emporium.conf"
# Every location (or server) with its own add_header must carry the
# security headers itself: nginx does not merge add_header lists.
hdr_audit=$(awk '
	function flush(   ) {
		if (nadd[depth] > 0 && !(hsts[depth] && nosniff[depth] && xfo[depth] && csp[depth] && refpol[depth] && perm[depth] && coop[depth]))
			print "missing security headers in block at line " start[depth] ": " head[depth]
	}
	/^[ \t]*#/ { next }
	/\{[ \t]*$/ { depth++; start[depth] = NR; head[depth] = $0; nadd[depth] = hsts[depth] = nosniff[depth] = xfo[depth] = csp[depth] = refpol[depth] = perm[depth] = coop[depth] = 0; if ($0 ~ /^[ \t]*(if|types|map|upstream|events|http)[ \t(]/ || $0 ~ /^[ \t]*(map|types|upstream)/) skip[depth] = 1; else skip[depth] = 0; next }
	/^[ \t]*\}/ { if (!skip[depth]) flush(); depth--; next }
	/^[ \t]*add_header/ {
		nadd[depth]++
		if ($0 !~ / always;$/) print "add_header without always at line " NR ": " $0
		if ($0 ~ /Strict-Transport-Security/) hsts[depth] = 1
		if ($0 ~ /X-Content-Type-Options/) nosniff[depth] = 1
		if ($0 ~ /X-Frame-Options/) xfo[depth] = 1
		if ($0 ~ /Content-Security-Policy/) csp[depth] = 1
		if ($0 ~ /Referrer-Policy/) refpol[depth] = 1
		if ($0 ~ /Permissions-Policy/) perm[depth] = 1
		if ($0 ~ /Cross-Origin-Opener-Policy/) coop[depth] = 1
	}
' "$conf")
if [ -z "$hdr_audit" ]; then
	ok "every server/location with add_header carries all security headers, all 'always'"
else notok "every server/location with add_header carries all security headers, all 'always'" "$hdr_audit"; fi

assert_conf() { # assert_conf NAME REGEX [REGEX...]: each regex matches a line
	local name=$1 re missing=''
	shift
	for re in "$@"; do grep -qE -- "$re" "$conf" || missing+="no line matches: $re"$'\n'; done
	if [ -z "$missing" ]; then ok "$name"; else notok "$name" "$missing"; fi
}
assert_conf "TLS 1.2/1.3 only, ECDHE+AEAD ciphers, no session tickets, client cipher preference" \
	'^ *ssl_protocols TLSv1\.2 TLSv1\.3;$' '^ *ssl_ciphers (ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305):?)+;$' \
	'^ *ssl_session_tickets off;' '^ *ssl_prefer_server_ciphers off;' '^ *ssl_session_cache shared:' \
	'^ *listen 8443 ssl http2' '^ *listen \[::\]:8443 ssl http2'
assert_conf "HSTS max-age=63072000; includeSubDomains" \
	'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;'
assert_conf "FastCGI: REQUEST_ID param, HTTPS on, keep-alive off, intercept off, timeouts" \
	'^ *fastcgi_param +REQUEST_ID +\$request_id;' '^ *fastcgi_param +HTTPS +on;' \
	'^ *fastcgi_keep_conn off;' '^ *fastcgi_intercept_errors off;' \
	'^ *fastcgi_read_timeout 30s;' '^ *fastcgi_connect_timeout 5s;'
if ! grep -qE 'fastcgi_keep_conn on|^ *keepalive [0-9]|include +fastcgi_params|include +/etc/nginx' "$conf" &&
	[ "$(grep -c 'fastcgi_pass emporium_fcgi;' "$conf")" = "$(grep -c 'fastcgi_keep_conn off;' "$conf")" ]; then
	ok "every fastcgi_pass has keep_conn off; no upstream keepalive; no external includes"
else notok "every fastcgi_pass has keep_conn off; no upstream keepalive; no external includes"; fi
# Retry on the next host only when nothing came back (error, timeout): never
# on an answer (http_5xx: the app ran the request) and never a sent POST or
# PATCH (non_idempotent); bounded in tries and time. Every fastcgi_pass has it.
assert_conf "FastCGI retries: next host on error/timeout only, at most 3 tries within 10 s" \
	'^ *fastcgi_next_upstream error timeout;$' '^ *fastcgi_next_upstream_tries [23];$' \
	'^ *fastcgi_next_upstream_timeout 10s;$'
if ! grep -qE '^ *fastcgi_next_upstream .*(non_idempotent|http_[0-9]|invalid_header|off)' "$conf" &&
	[ "$(grep -c 'fastcgi_pass emporium_fcgi;' "$conf")" = "$(grep -c '^ *fastcgi_next_upstream error timeout;' "$conf")" ] &&
	! grep -hv '^[[:space:]]*#' "$root/nginx/emporium.conf.in" "$root"/nginx/snippets/*.conf | grep -q 'non_idempotent'; then
	ok "FastCGI retries: no POST/PATCH replayed once sent (no non_idempotent), none on an app answer; on every fastcgi_pass"
else notok "FastCGI retries: no POST/PATCH replayed once sent (no non_idempotent), none on an app answer; on every fastcgi_pass" \
	"$(grep -n 'fastcgi_next_upstream\|fastcgi_pass' "$conf")"; fi
assert_conf "CORS: exact-origin allowlist map, credentials only for listed origins" \
	'^ *"https://shop\.example\.com" "https://shop\.example\.com";$' \
	'^ *"https://admin\.example\.com" "https://admin\.example\.com";$' \
	'add_header Access-Control-Allow-Origin \$emporium_cors_origin always;'
if grep -qE 'Access-Control-Allow-Origin +("\*"|\*|\$http_origin)' "$conf"; then
	notok "CORS: never '*' and never the raw Origin header"
else ok "CORS: never '*' and never the raw Origin header"; fi
assert_conf "rate limits: auth and api zones, 429, limit_conn per client (IPv6 by /64)" \
	'^map \$remote_addr \$emporium_client \{' \
	'"~\^\(\?<p64>\[0-9a-f\]\+:\[0-9a-f\]\+:\[0-9a-f\]\+:\[0-9a-f\]\+\):" \$p64;' \
	'default \$binary_remote_addr;' \
	'^limit_req_zone \$emporium_client zone=emporium_auth:10m rate=5r/s;' \
	'^limit_req_zone \$emporium_client zone=emporium_api:10m rate=50r/s;' \
	'^limit_conn_zone \$emporium_client zone=emporium_conn:10m;' \
	'limit_req zone=emporium_auth burst=10 nodelay;' 'limit_req zone=emporium_api burst=100 nodelay;' \
	'^ *limit_req_status 429;' '^ *limit_conn_status 429;' '^ *limit_conn emporium_conn [0-9]+;'
assert_conf "micro-cache: zone, key, 5s, bypass on credentials, lock, stale, X-Cache-Status" \
	"fastcgi_cache_path $P/cache/micro levels=1:2 keys_zone=emporium_micro:10m" \
	'max_size=100m inactive=60s use_temp_path=off;' \
	'fastcgi_cache_key "\$scheme\$request_method\$host\$request_uri";' '^ *fastcgi_cache_valid 200 5s;' \
	'^ *fastcgi_cache_bypass \$emporium_cache_skip;' '^ *fastcgi_no_cache \$emporium_cache_skip;' \
	'^ *fastcgi_cache_lock on;' '^ *fastcgi_cache_use_stale updating error timeout;' \
	'add_header X-Cache-Status \$upstream_cache_status always;'
assert_conf "access log: JSON with request_id, status, request_time, upstream_response_time" \
	'^log_format emporium_json escape=json' '"request_id":"\$request_id"' '"status":\$status' \
	'"request_time":\$request_time' '"upstream_response_time":"\$upstream_response_time"'
if [ "$(grep -c '^ *error_page ' "$conf")" -ge 20 ] && ! grep -qE '^ {8,}error_page [0-9]{3} /' "$conf"; then
	ok "error_page only at server level (locations keep inheriting them)"
else notok "error_page only at server level (locations keep inheriting them)"; fi

# local.conf for a normal user: no "user" directive, every path under the prefix.
U="$W/user"
mkdir -p "$U"
run_as_user=()
user_root=$root
if [ "$(id -u)" = 0 ]; then
	if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null 2>&1; then
		chown -R nobody "$U"
		run_as_user=(runuser -u nobody --)
		# The checkout may sit where nobody cannot read (/root/...): use a copy.
		mkdir -p "$W/copy"
		cp -R "$root/nginx" "$W/copy/"
		chmod -R a+rX "$W/copy"
		user_root="$W/copy"
	fi
fi
if [ "$(id -u)" = 0 ] && [ ${#run_as_user[@]} -eq 0 ]; then
	note "skipped: normal-user nginx -t (no 'nobody' user or runuser)"
else
	user_env=(NGX_PREFIX="$U" NGX_HTTPS_PORT=28443 NGX_HTTP_PORT=28080 NGX_CERT="$W/tls/cert.pem"
		NGX_KEY="$W/tls/key.pem" NGX_UPSTREAMS="unix:$U/fcgi.sock" NGX_ADMIN_ROOT="$U/admin")
	check "render.sh as a normal user: site config and local.conf" \
		"${run_as_user[@]+"${run_as_user[@]}"}" env -u NGX_USER "${user_env[@]}" bash -c \
		'"$0" --template "$1/nginx/emporium.conf.in" --out "$NGX_PREFIX/conf/emporium.conf" &&
		 "$0" --template "$1/nginx/local.conf.in" --out "$NGX_PREFIX/conf/nginx.conf"' \
		"$user_root/nginx/render.sh" "$user_root"
	lc="$U/conf/nginx.conf"
	miss=''
	[ -f "$lc" ] || miss+="not rendered: $lc"$'\n'
	grep -qE '^ *user ' "$lc" 2>/dev/null && miss+="has a user directive"$'\n'
	for d in "pid $U/logs/nginx.pid;" "error_log $U/logs/error.log" "client_body_temp_path $U/tmp/client_body;" \
		"fastcgi_temp_path $U/tmp/fastcgi;" "proxy_temp_path $U/tmp/proxy;" "uwsgi_temp_path $U/tmp/uwsgi;" \
		"scgi_temp_path $U/tmp/scgi;" "access_log $U/logs/access.log;" "worker_processes 2;" \
		"include $U/conf/emporium.conf;"; do
		sed 's/[[:space:]][[:space:]]*/ /g' "$lc" 2>/dev/null | grep -qF -- "$d" || miss+="missing: $d"$'\n'
	done
	if [ -z "$miss" ]; then ok "local.conf (normal user): no 'user', pid/logs/all temp paths under the prefix"
	else notok "local.conf (normal user): no 'user', pid/logs/all temp paths under the prefix" "$miss"; fi
	check "nginx -t as a normal user ($(if [ ${#run_as_user[@]} -gt 0 ]; then echo nobody; else id -un; fi)) with its own prefix" \
		"${run_as_user[@]+"${run_as_user[@]}"}" nginx -t -q -p "$U" -c "$lc" -e "$U/logs/error.log"
fi

# ====================================================== 2. systemd
S="$W/systemd"
mkdir -p "$S/root/usr/bin" "$S/units"
for b in emporium-fcgi emporium-worker; do
	printf '#!/bin/sh\nexit 0\n' >"$S/root/usr/bin/$b"
	chmod 755 "$S/root/usr/bin/$b"
done
for u in emporium-fcgi emporium-worker; do
	src="$root/systemd/$u.service.in"
	other=$(grep -oE '@[A-Za-z_]+@' "$src" | grep -vE '^@(bindir|sysconfdir|localstatedir)@$' | sort -u | tr '\n' ' ')
	if [ -z "$other" ]; then ok "$u.service.in: only @bindir@ @sysconfdir@ @localstatedir@ placeholders"
	else notok "$u.service.in: only @bindir@ @sysconfdir@ @localstatedir@ placeholders" "$other"; fi
	# As installed (for the directive assertions) and with @bindir@ at the
	# stub executables (for verify, which checks ExecStart exists).
	sed -e 's|@bindir@|/usr/bin|g' -e 's|@sysconfdir@|/etc|g' -e 's|@localstatedir@|/var|g' \
		"$src" >"$S/$u.service"
	sed -e "s|@bindir@|$S/root/usr/bin|g" -e 's|@sysconfdir@|/etc|g' -e 's|@localstatedir@|/var|g' \
		"$src" >"$S/units/$u.service"
done

# assert_unit UNIT DIRECTIVE=VALUE...: each line present exactly.
assert_unit() {
	local unit=$1 miss='' d
	shift
	for d in "$@"; do grep -qxF -- "$d" "$S/$unit" || miss+="missing: $d"$'\n'; done
	if [ -z "$miss" ]; then ok "$unit: $(($#)) required directives"; else notok "$unit: required directives" "$miss"; fi
}
hardening=(NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes
	ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes ProtectControlGroups=yes
	ProtectClock=yes ProtectHostname=yes 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'
	RestrictNamespaces=yes RestrictRealtime=yes RestrictSUIDSGID=yes LockPersonality=yes
	MemoryDenyWriteExecute=yes SystemCallArchitectures=native SystemCallFilter=@system-service
	CapabilityBoundingSet= UMask=0027 User=emporium Group=emporium
	EnvironmentFile=/etc/emporium/emporium.env StateDirectory=emporium
	ReadWritePaths=-/var/lib/emporium LimitNOFILE=65536 Restart=on-failure KillMode=mixed)
assert_unit emporium-fcgi.service Type=notify NotifyAccess=main ExecStart=/usr/bin/emporium-fcgi \
	'ExecReload=/bin/kill -HUP $MAINPID' RestartSec=1 TimeoutStopSec=35 \
	RuntimeDirectory=emporium RuntimeDirectoryMode=0750 "${hardening[@]}"
assert_unit emporium-worker.service Type=notify NotifyAccess=main ExecStart=/usr/bin/emporium-worker \
	TimeoutStopSec=60 "${hardening[@]}"

if command -v systemd-analyze >/dev/null 2>&1; then
	# verify exits 0 on unknown keys and similar: any diagnostic is a failure.
	out=$(cd "$S/units" && systemd-analyze verify --man=no --generators=no \
		./emporium-fcgi.service ./emporium-worker.service 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		ok "systemd-analyze verify: both units clean (ExecStart at stub executables)"
	elif grep -qiE 'Failed to (connect|initialize)|System has not been booted|Failed to create bus' <<<"$out"; then
		note "systemd-analyze verify cannot run here: $out"
		note "fallback: offline parse of the units (section/key syntax)"
		bad=$(awk '/^\[/{sec=$0; next} /^[ \t]*(#|;|$)/{next} !/^[A-Za-z]+=/{print FILENAME": "$0}' "$S"/units/*.service)
		if [ -z "$bad" ]; then ok "units parse (offline fallback; systemd-analyze verify unavailable)"
		else notok "units parse (offline fallback; systemd-analyze verify unavailable)" "$bad"; fi
	else
		notok "systemd-analyze verify: both units clean (ExecStart at stub executables)" "$out"
	fi
	for u in emporium-fcgi emporium-worker; do
		out=$(cd "$S/units" && systemd-analyze security --offline=true --threshold=20 --no-pager "./$u.service" 2>&1)
		rc=$?
		level=$(grep -oE 'Overall exposure level for [^:]+: [0-9.]+' <<<"$out" | grep -oE '[0-9.]+$')
		if [ $rc -eq 0 ] && [ -n "$level" ]; then
			ok "systemd-analyze security --offline: $u exposure $level (<= 2.0)"
		else
			notok "systemd-analyze security --offline: $u exposure ${level:-?} (<= 2.0)" "$(grep '✗' <<<"$out")"
		fi
	done
else
	notok "systemd-analyze available (apt-get install -y systemd)"
fi

# sysusers + tmpfiles applied to a throwaway root.
R="$S/fsroot"
mkdir -p "$R/etc"
cp /etc/passwd /etc/group "$R/etc/" 2>/dev/null
: >"$R/etc/shadow"
: >"$R/etc/gshadow"
if command -v systemd-sysusers >/dev/null 2>&1 && command -v systemd-tmpfiles >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	if out=$(systemd-sysusers --root="$R" "$root/systemd/emporium.sysusers.conf" 2>&1) &&
		grep -qE '^emporium:x:[0-9]+:[0-9]+:Emporium eCommerce:/var/lib/emporium:' "$R/etc/passwd"; then
		ok "sysusers.d: creates system user emporium (home /var/lib/emporium)"
	else notok "sysusers.d: creates system user emporium (home /var/lib/emporium)" "$out"; fi
	if out=$(systemd-tmpfiles --root="$R" --create "$root/systemd/emporium.tmpfiles.conf" 2>&1); then
		uid=$(awk -F: '$1=="emporium"{print $3}' "$R/etc/passwd")
		got=$(stat -c '%n %a %u' "$R/run/emporium" "$R/var/lib/emporium/media" "$R/var/cache/nginx/emporium" 2>&1)
		if grep -qx "$R/run/emporium 750 $uid" <<<"$got" && grep -qx "$R/var/lib/emporium/media 755 $uid" <<<"$got" &&
			[ -d "$R/var/cache/nginx/emporium" ]; then
			ok "tmpfiles.d: /run/emporium 0750, /var/lib/emporium/media 0755 (emporium), /var/cache/nginx/emporium"
		else notok "tmpfiles.d: /run/emporium 0750, /var/lib/emporium/media 0755 (emporium), /var/cache/nginx/emporium" "$got"; fi
	else notok "tmpfiles.d: applies cleanly" "$out"; fi
else
	note "skipped: sysusers/tmpfiles --root checks (need root and systemd-sysusers/systemd-tmpfiles)"
fi

# ====================================================== 3. live nginx
L="$W/live"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		port_free "$p" && [ "$p" != "${1:-}" ] && { echo "$p"; return 0; }
	done
	return 1
}
mkdir -p "$L/media/sub" "$L/admin" "$L/run"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR' >"$L/media/x.png"
echo 'not an image' >"$L/media/notes.txt"
printf '<!doctype html><title>Emporium admin</title>\n' >"$L/admin/index.html"
printf 'console.log("admin");\n' >"$L/admin/app.js"
SOCK="$L/run/fcgi.sock"
ORIGIN_OK='https://shop.example.com'
ORIGIN_BAD='https://evil.example.net'

started=0
for _ in 1 2 3; do
	HTTPS_PORT=$(pick_port) && HTTP_PORT=$(pick_port "$HTTPS_PORT") || break
	live_env=(NGX_PREFIX="$L" NGX_HTTPS_PORT="$HTTPS_PORT" NGX_HTTP_PORT="$HTTP_PORT"
		NGX_UPSTREAMS="unix:$SOCK" NGX_CERT="$W/tls/cert.pem" NGX_KEY="$W/tls/key.pem"
		NGX_MEDIA_ROOT="$L/media" NGX_ADMIN_ROOT="$L/admin" NGX_PUBLIC_HOST=127.0.0.1
		NGX_TRUSTED_PROXIES=127.0.0.1
		NGX_CORS_ORIGINS="$ORIGIN_OK https://admin.example.com")
	render_env "${live_env[@]}" "$render" --template "$root/nginx/emporium.conf.in" --out "$L/conf/emporium.conf" &&
		render_env "${live_env[@]}" "$render" --template "$root/nginx/local.conf.in" --out "$L/conf/nginx.conf" ||
		break
	rm -f "$L/logs/nginx.pid"
	if nginx -p "$L" -c "$L/conf/nginx.conf" -e "$L/logs/error.log" 2>"$L/start.err"; then
		for _ in $(seq 50); do [ -s "$L/logs/nginx.pid" ] && break; sleep 0.1; done
		[ -s "$L/logs/nginx.pid" ] && { started=1; break; }
	fi
done
if [ $started = 1 ]; then
	ok "nginx started as $(id -un) on ports $HTTP_PORT/$HTTPS_PORT (local config, own prefix)"
else
	notok "nginx started (local config, own prefix)" "$(cat "$L/start.err" "$L/logs/error.log" 2>/dev/null)"
	finish
fi
B="https://127.0.0.1:$HTTPS_PORT"

# fetch [curl args...]: headers in $L/h, body in $L/b, status in $code.
fetch() {
	code=$(curl -ks --max-time 15 -D "$L/h" -o "$L/b" -w '%{http_code}' "$@" 2>/dev/null)
	tr -d '\r' <"$L/h" >"$L/h2" && mv "$L/h2" "$L/h"
}
# hdr NAME: value of the (last) response header NAME, empty if absent.
hdr() { grep -i "^$1:" "$L/h" | tail -n 1 | cut -d: -f2- | sed 's/^ *//'; }
has_hdr() { grep -qi "^$1:" "$L/h"; }
python=''
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
# problem_ok STATUS: the last response is problem+json with that status.
problem_ok() {
	[ "$code" = "$1" ] || { echo "status $code, wanted $1"; return 1; }
	[[ $(hdr Content-Type) == application/problem+json* ]] || { echo "Content-Type: $(hdr Content-Type)"; return 1; }
	if [ -n "$python" ]; then
		"$python" - "$1" "$L/b" <<'EOF' || return 1
import json, sys
want, path = int(sys.argv[1]), sys.argv[2]
d = json.load(open(path))
assert all(isinstance(d.get(k), str) for k in ("type", "title", "detail")), d
assert d.get("status") == want, d
EOF
	else
		grep -q "\"status\":$1" "$L/b" && grep -q '"title":' "$L/b" && grep -q '"type":' "$L/b" &&
			grep -q '"detail":' "$L/b" || { cat "$L/b"; return 1; }
	fi
}
sec_headers_ok() {
	local h miss=''
	for h in Strict-Transport-Security X-Content-Type-Options X-Frame-Options Content-Security-Policy \
		Referrer-Policy Permissions-Policy Cross-Origin-Opener-Policy; do
		has_hdr "$h" || miss+="$h "
	done
	[ -z "$miss" ] || { echo "missing: $miss"; return 1; }
}
tcheck() { # tcheck NAME FUNCTION-OR-COMMAND...: like check, for live tests
	check "$@"
}

fetch "http://127.0.0.1:$HTTP_PORT/api/v1/products?limit=2"
if [ "$code" = 301 ] && [ "$(hdr Location)" = "https://127.0.0.1:$HTTPS_PORT/api/v1/products?limit=2" ]; then
	ok "HTTP -> HTTPS: 301 to https://host:port with path and query"
else notok "HTTP -> HTTPS: 301 to https://host:port with path and query" "$code $(hdr Location)"; fi
tcheck "security headers on the HTTP redirect" sec_headers_ok
# A forged Host must not steer a redirect (open redirect / cache poisoning).
fetch -H 'Host: evil.example' "http://127.0.0.1:$HTTP_PORT/admin"
if [ "$code" = 301 ] && [[ $(hdr Location) == https://127.0.0.1:$HTTPS_PORT/* ]]; then
	ok "HTTP redirect ignores a forged Host: evil.example"
else notok "HTTP redirect ignores a forged Host: evil.example" "$code $(hdr Location)"; fi
fetch -H 'Host: evil.example' "$B/admin"
if [[ $(hdr Location) != *evil* ]]; then
	ok "HTTPS redirects ignore a forged Host: evil.example"
else notok "HTTPS redirects ignore a forged Host: evil.example" "$code $(hdr Location)"; fi

fetch "$B/no/such/thing"
tcheck "404 outside /api/ is problem+json" problem_ok 404
tcheck "security headers on a 404" sec_headers_ok
if [ "$(hdr Strict-Transport-Security)" = "max-age=63072000; includeSubDomains" ] &&
	[[ $(hdr Content-Security-Policy) == "default-src 'none'; frame-ancestors 'none'"* ]] &&
	[ "$(hdr X-Content-Type-Options)" = nosniff ] && [ "$(hdr X-Frame-Options)" = DENY ]; then
	ok "HSTS max-age=63072000; includeSubDomains, strict CSP, nosniff, DENY"
else notok "HSTS max-age=63072000; includeSubDomains, strict CSP, nosniff, DENY" "$(cat "$L/h")"; fi

# in_log FIXED-STRING: the access log has it (nginx writes the line only
# after the response has gone out, so give it a moment).
in_log() {
	local _
	for _ in $(seq 40); do
		grep -qF -- "$1" "$L/logs/access.log" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
fetch -X POST -d '{}' "$B/api/v1/orders/track?order=1&email=secret-mail%40example.com"
if in_log '"method":"POST","path":"/api/v1/orders/track"' && ! grep -q 'secret-mail' "$L/logs/access.log"; then
	ok "access log: client's method (not the error page's GET), path without the query string"
else notok "access log: client's method (not the error page's GET), path without the query string" "$(tail -n 1 "$L/logs/access.log" 2>&1)"; fi
fetch "$B/api/v1/health"
tcheck "/api/v1/health with the app down -> 502 problem+json" problem_ok 502
tcheck "security headers on a 502" sec_headers_ok
if [[ $(hdr X-Request-Id) =~ ^[0-9a-f]{32}$ ]] && grep -q "$(hdr X-Request-Id)" "$L/b"; then
	ok "nginx errors carry X-Request-Id (= request_id in the body)"
else notok "nginx errors carry X-Request-Id (= request_id in the body)"; fi
if in_log "\"request_id\":\"$(hdr X-Request-Id)\""; then
	ok "access log line (JSON) carries the request id"
else notok "access log line (JSON) carries the request id" "$(tail -n 2 "$L/logs/access.log" 2>&1)"; fi

fetch -X OPTIONS -H "Origin: $ORIGIN_OK" -H 'Access-Control-Request-Method: POST' \
	-H 'Access-Control-Request-Headers: authorization, content-type, idempotency-key' "$B/api/v1/orders"
if [ "$code" = 204 ] && [ "$(hdr Access-Control-Allow-Origin)" = "$ORIGIN_OK" ] &&
	[ "$(hdr Access-Control-Allow-Credentials)" = true ] && [[ $(hdr Vary) == *Origin* ]] &&
	[[ $(hdr Access-Control-Allow-Methods) == *PATCH* ]] && [[ $(hdr Access-Control-Allow-Headers) == *Idempotency-Key* ]] &&
	[[ $(hdr Access-Control-Allow-Headers) == *X-CSRF-Token* ]] && [ "$(hdr Access-Control-Max-Age)" = 600 ] &&
	[ "$(grep -ci '^Access-Control-Allow-Origin:' "$L/h")" = 1 ]; then
	ok "preflight from an allowed origin -> 204, ACAO = that origin, credentials, methods/headers, max-age 600"
else notok "preflight from an allowed origin -> 204, ACAO = that origin, credentials, methods/headers, max-age 600" "$code $(cat "$L/h")"; fi
sec_headers_ok >/dev/null || notok "security headers on the preflight 204" "$(sec_headers_ok)"

fetch -X OPTIONS -H "Origin: $ORIGIN_BAD" -H 'Access-Control-Request-Method: POST' "$B/api/v1/orders"
if problem_ok 403 >/dev/null && ! has_hdr Access-Control-Allow-Origin && ! has_hdr Access-Control-Allow-Credentials; then
	ok "preflight from a refused origin -> 403 problem+json, no ACAO"
else notok "preflight from a refused origin -> 403 problem+json, no ACAO" "$code $(cat "$L/h")"; fi
fetch -X OPTIONS -H "Origin: $ORIGIN_OK.evil.net" -H 'Access-Control-Request-Method: GET' "$B/api/v1/products"
if [ "$code" = 403 ] && ! has_hdr Access-Control-Allow-Origin; then
	ok "preflight from a look-alike origin ($ORIGIN_OK.evil.net) refused"
else notok "preflight from a look-alike origin ($ORIGIN_OK.evil.net) refused" "$code"; fi
fetch -H "Origin: $ORIGIN_BAD" "$B/api/v1/health"
if ! has_hdr Access-Control-Allow-Origin && ! has_hdr Access-Control-Allow-Credentials; then
	ok "GET from a refused origin: no ACAO, no credentials header"
else notok "GET from a refused origin: no ACAO, no credentials header" "$(cat "$L/h")"; fi
fetch -H "Origin: $ORIGIN_OK" "$B/api/v1/health"
if [ "$(hdr Access-Control-Allow-Origin)" = "$ORIGIN_OK" ] && [ "$(hdr Access-Control-Allow-Credentials)" = true ]; then
	ok "error for an allowed origin still carries its ACAO (readable by the browser)"
else notok "error for an allowed origin still carries its ACAO (readable by the browser)" "$(cat "$L/h")"; fi

head -c 1500000 /dev/zero | tr '\0' ' ' >"$L/big.json"
fetch -X POST -H 'Content-Type: application/json' --data-binary "@$L/big.json" "$B/api/v1/cart/items"
tcheck "1.5 MB JSON body -> 413 problem+json (limit 1m)" problem_ok 413
fetch --http1.1 -X POST -H 'Content-Type: application/json' --data-binary "@$L/big.json" "$B/api/v1/cart/items"
tcheck "same over HTTP/1.1 -> 413 problem+json" problem_ok 413
fetch -X POST -H 'Content-Type: application/octet-stream' --data-binary "@$L/big.json" "$B/api/v1/admin/products/p1/images"
if [ "$code" = 502 ]; then
	ok "1.5 MB image upload accepted by nginx (reaches the app: 502 with it down)"
else notok "1.5 MB image upload accepted by nginx (reaches the app: 502 with it down)" "status $code"; fi
head -c 7000000 /dev/zero >"$L/huge.bin"
fetch -X POST -H 'Content-Type: application/octet-stream' --data-binary "@$L/huge.bin" "$B/api/v1/admin/products/p1/images"
tcheck "7 MB image upload -> 413 problem+json (limit 6m)" problem_ok 413

fetch -X DELETE "$B/admin/index.html"
tcheck "DELETE on a static file -> 405 problem+json" problem_ok 405

# 40 quick POSTs to the auth endpoint over one connection.
urls=()
for _ in $(seq 40); do urls+=(-o /dev/null "$B/api/v1/auth/login"); done
codes=$(curl -ks --max-time 30 -X POST -H 'Content-Type: application/json' -d '{}' \
	-w '%{http_code}\n' "${urls[@]}" 2>/dev/null)
n429=$(grep -c '^429$' <<<"$codes")
if [ "$n429" -gt 0 ]; then ok "auth rate limit: $n429 of 40 quick requests -> 429"
else notok "auth rate limit: some of 40 quick requests -> 429" "$(sort <<<"$codes" | uniq -c)"; fi
# the bucket may have drained meanwhile on a loaded machine: knock until refused
for _ in $(seq 30); do
	fetch -X POST -H 'Content-Type: application/json' -d '{}' "$B/api/v1/auth/login"
	[ "$code" = 429 ] && break
done
if problem_ok 429 >/dev/null && [ "$(hdr Retry-After)" = 1 ]; then
	ok "429 is problem+json with Retry-After: 1"
else notok "429 is problem+json with Retry-After: 1" "$code $(cat "$L/h" "$L/b")"; fi
sec_headers_ok >/dev/null && ok "security headers on a 429" || notok "security headers on a 429" "$(sec_headers_ok)"
fetch "$B/api/v1/health"
if [ "$code" = 502 ]; then ok "rest of /api/ not limited by the auth zone"
else notok "rest of /api/ not limited by the auth zone" "status $code"; fi

fetch "$B/media/x.png"
if [ "$code" = 200 ] && [ "$(hdr Content-Type)" = image/png ] && [ "$(hdr X-Content-Type-Options)" = nosniff ] &&
	[[ $(hdr Cache-Control) == *max-age=2592000* ]]; then
	ok "/media/x.png -> 200 image/png, nosniff, cached 30 days"
else notok "/media/x.png -> 200 image/png, nosniff, cached 30 days" "$code $(cat "$L/h")"; fi
fetch "$B/media/notes.txt"
if [ "$code" = 404 ]; then ok "/media/ serves image types only (.txt -> 404)"
else notok "/media/ serves image types only (.txt -> 404)" "status $code"; fi
fetch "$B/media/sub/"
if [ "$code" = 404 ]; then ok "/media/ has no directory listing"
else notok "/media/ has no directory listing" "status $code"; fi

fetch "$B/admin/"
if [ "$code" = 200 ] && [[ $(hdr Content-Type) == text/html* ]] && grep -q 'Emporium admin' "$L/b" &&
	[[ $(hdr Content-Security-Policy) == *"script-src 'self'"* ]] && sec_headers_ok >/dev/null; then
	ok "/admin/ -> index.html with the admin CSP and security headers"
else notok "/admin/ -> index.html with the admin CSP and security headers" "$code $(cat "$L/h")"; fi
fetch "$B/admin/orders/42"
if [ "$code" = 200 ] && grep -q 'Emporium admin' "$L/b"; then ok "/admin/<client route> falls back to index.html"
else notok "/admin/<client route> falls back to index.html" "status $code"; fi
fetch "$B/admin/app.js"
if [ "$code" = 200 ] && [[ $(hdr Content-Type) == application/javascript* ]]; then ok "/admin/app.js -> application/javascript"
else notok "/admin/app.js -> application/javascript" "$code $(hdr Content-Type)"; fi

# ---------------------------------------------- with a FastCGI app behind
if [ -n "$python" ]; then
	"$python" "$here/fcgi_stub.py" "$SOCK" >"$L/stub.log" 2>&1 &
	started_pids+=($!)
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	if [ -S "$SOCK" ]; then
		sleep 0.3
		fetch -H "Origin: $ORIGIN_BAD" -H 'Proxy: http://evil.example.net' "$B/api/v1/health"
		rid=$(hdr X-Request-Id)
		if [ "$code" = 200 ] && [[ $rid =~ ^[0-9a-f]{32}$ ]] && grep -q "\"request_id\": \"$rid\"" "$L/b" &&
			[ "$(grep -ci '^X-Request-Id:' "$L/h")" = 1 ]; then
			ok "app gets REQUEST_ID = \$request_id and its X-Request-Id comes back once"
		else notok "app gets REQUEST_ID = \$request_id and its X-Request-Id comes back once" "$code $(cat "$L/h" "$L/b")"; fi
		if grep -q '"keep_conn": false' "$L/b" && grep -q '"https": "on"' "$L/b" && ! grep -q 'evil' "$L/b"; then
			ok "FastCGI: keep-alive not requested, HTTPS=on, client's Proxy: header not passed (httpoxy)"
		else notok "FastCGI: keep-alive not requested, HTTPS=on, client's Proxy: header not passed (httpoxy)" "$(cat "$L/b")"; fi
		if ! has_hdr Access-Control-Allow-Origin && sec_headers_ok >/dev/null; then
			ok "app's own Access-Control-Allow-Origin hidden; security headers added to app responses"
		else notok "app's own Access-Control-Allow-Origin hidden; security headers added to app responses" "$(cat "$L/h")"; fi
		# the public catalog's large JSON is gzipped; the rest of the API
		# (answers that can hold tokens: BREACH) is not
		fetch -H 'Accept-Encoding: gzip' "$B/api/v1/products?big=1"
		if [ "$code" = 200 ] && [ "$(hdr Content-Encoding)" = gzip ] &&
			grep -qi '^Vary:.*Accept-Encoding' "$L/h" && gzip -t "$L/b" 2>/dev/null; then
			ok "gzip: a large catalog answer is compressed (Vary: Accept-Encoding)"
		else notok "gzip: a large catalog answer is compressed (Vary: Accept-Encoding)" "$code $(hdr Content-Encoding)"; fi
		fetch -H 'Accept-Encoding: gzip' "$B/api/v1/me?big=1"
		if [ -z "$(hdr Content-Encoding)" ] && grep -q '"padding"' "$L/b"; then
			ok "gzip: not on the rest of the API (tokens next to client input)"
		else notok "gzip: not on the rest of the API (tokens next to client input)" "$code $(hdr Content-Encoding)"; fi
		# behind a trusted proxy (127.0.0.1 here) the client is the one it names
		fetch -H 'X-Forwarded-For: 198.51.100.23, 203.0.113.9' "$B/api/v1/health"
		if grep -q '"remote_addr": "203.0.113.9"' "$L/b"; then
			ok "real_ip: a trusted proxy's X-Forwarded-For names the client (REMOTE_ADDR 203.0.113.9)"
		else notok "real_ip: a trusted proxy's X-Forwarded-For names the client (REMOTE_ADDR 203.0.113.9)" "$(cat "$L/b")"; fi
		fetch "$B/api/v1/missing"
		if [ "$code" = 404 ] && grep -q 'from the app' "$L/b" && [[ $(hdr Content-Type) == application/problem+json* ]]; then
			ok "app's own 404 problem+json passes through untouched (intercept off)"
		else notok "app's own 404 problem+json passes through untouched (intercept off)" "$code $(cat "$L/b")"; fi
		fetch "$B/api/v1/products?category=shoes"
		s1=$(hdr X-Cache-Status) b1=$(grep -o '"counter": [0-9]*' "$L/b") r1=$(hdr X-Request-Id)
		fetch "$B/api/v1/products?category=shoes"
		s2=$(hdr X-Cache-Status) b2=$(grep -o '"counter": [0-9]*' "$L/b") r2=$(hdr X-Request-Id)
		if [ "$s1" = MISS ] && [ "$s2" = HIT ] && [ "$b1" = "$b2" ] && [ -n "$r2" ] && [ "$r1" != "$r2" ]; then
			ok "micro-cache: anonymous GET /api/v1/products MISS then HIT (fresh X-Request-Id on the hit)"
		else notok "micro-cache: anonymous GET /api/v1/products MISS then HIT (fresh X-Request-Id on the hit)" "$s1/$s2 $b1/$b2 $r1/$r2"; fi
		fetch -H 'Authorization: Bearer t' "$B/api/v1/products?category=shoes"
		s3=$(hdr X-Cache-Status)
		fetch -H 'Cookie: __Host-emporium_rt=x' "$B/api/v1/categories"
		s4=$(hdr X-Cache-Status)
		if [ "$s3" = BYPASS ] && [ "$s4" = BYPASS ]; then
			ok "micro-cache bypassed with Authorization or a cookie"
		else notok "micro-cache bypassed with Authorization or a cookie" "$s3 $s4"; fi
		fetch "$B/api/v1/orders"
		if [ "$code" = 200 ] && ! has_hdr X-Cache-Status; then ok "no micro-cache outside the catalog"
		else notok "no micro-cache outside the catalog" "$code $(hdr X-Cache-Status)"; fi
	else
		notok "FastCGI stub listening on $SOCK" "$(cat "$L/stub.log")"
	fi
else
	note "skipped: checks with a FastCGI app behind nginx (needs /usr/bin/python3)"
fi

# ---------------------------------------------- stop
pid=$(cat "$L/logs/nginx.pid")
nginx -p "$L" -c "$L/conf/nginx.conf" -e "$L/logs/error.log" -s quit 2>/dev/null
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if ! kill -0 "$pid" 2>/dev/null; then ok "nginx stopped"; rm -f "$L/logs/nginx.pid"
else notok "nginx stopped" "master $pid still running"; fi
if grep -E '\[(emerg|alert|crit)\]' "$L/logs/error.log" | grep -vq 'connect() to unix:.*failed'; then
	notok "nginx error log: no emerg/alert/crit besides the deliberate upstream failures" \
		"$(grep -E '\[(emerg|alert|crit)\]' "$L/logs/error.log" | grep -v 'connect() to unix:' | head -5)"
else ok "nginx error log: no emerg/alert/crit besides the deliberate upstream failures"; fi

finish
