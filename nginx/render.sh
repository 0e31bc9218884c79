#!/usr/bin/env bash
# render.sh — render an Emporium nginx template (nginx/*.conf.in).
#
#   nginx/render.sh --template nginx/emporium.conf.in --out FILE [--mode M]
#   nginx/render.sh --template nginx/local.conf.in    --out FILE [--mode M]
#   nginx/render.sh --list                 # the variables and their values
#
# Placeholders are @NAME@, filled from NGX_* environment variables (see
# --help). A line holding only "@include snippets/X.conf" is replaced by
# that snippet (from nginx/snippets/, placeholders substituted, indented
# like the marker), so the rendered file is self-contained.
#
# Modes (--mode, or NGX_MODE): "production" (paths under /etc, /var, /run;
# for `make install`) or "local" (everything under NGX_PREFIX, for local and
# test runs). Without --mode: local when NGX_PREFIX is set, else production.
# In local mode the prefix directories (conf, logs, tmp, cache) are created.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prog=render.sh

die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

usage() {
	cat <<'EOF'
usage: nginx/render.sh --template FILE.in --out FILE|- [--mode production|local]
       nginx/render.sh --list [--mode production|local]

Variables (environment; defaults in [production | local] mode):
  NGX_PREFIX           nginx prefix for temp files, logs, cache [- | required]
  NGX_HTTPS_PORT       HTTPS port [443]
  NGX_HTTP_PORT        HTTP port, redirects to HTTPS [80]
  NGX_SERVER_NAME      server_name, space-separated names [_]
  NGX_PUBLIC_HOST      the host redirects send browsers to (never the
                       client's Host header) [the first NGX_SERVER_NAME
                       when it is a plain name, else localhost]
  NGX_UPSTREAMS        space-separated FastCGI servers: unix:/abs/path or
                       host:port [unix:/run/emporium/fcgi.sock]
  NGX_CERT, NGX_KEY    TLS certificate chain and key (PEM)
                       [/etc/emporium/tls/fullchain.pem, privkey.pem |
                        PREFIX/tls/cert.pem, key.pem]
  NGX_MEDIA_ROOT       uploaded images [/var/lib/emporium/media | PREFIX/media]
  NGX_ADMIN_ROOT       admin panel files [/usr/share/emporium/admin |
                        <checkout>/web/admin/dist (web/admin/build.sh)]
  NGX_DOCS_ROOT        the API description and its documentation page, as
                       written by tools/openapi/build.sh site DIR
                       [/usr/share/emporium/docs | <checkout>/build/docs-site]
  NGX_METRICS_ALLOW    addresses or networks that may read /metrics
                       [127.0.0.1 ::1]
  NGX_TRUSTED_PROXIES  space-separated addresses or CIDR networks of the load
                       balancers in front: their X-Forwarded-For names the
                       client (real_ip), so limits and logs see clients []
  NGX_CORS_ORIGINS     space-separated exact origins allowed by CORS, e.g.
                       "https://shop.example.com https://admin.example.com" []
  NGX_AUTH_RATE        /api/v1/auth/ rate per client address [5r/s]
  NGX_AUTH_BURST       its burst [10]
  NGX_API_RATE         rest of /api/ [50r/s]
  NGX_API_BURST        its burst [100]
  NGX_CONN_PER_IP      concurrent connections (HTTP/2 streams) per address [100]
  NGX_MAX_BODY         client_max_body_size for the API [1m]
  NGX_UPLOAD_MAX_BODY  for /api/v1/(admin/)products/*/images [6m]
  NGX_FASTCGI_READ_TIMEOUT  fastcgi read/send timeout [30s]
  NGX_CACHE_DIR        micro-cache parent dir [/var/cache/nginx/emporium |
                        PREFIX/cache]
  NGX_ACCESS_LOG       access log file, or "off"
                       [/var/log/nginx/emporium.access.log | PREFIX/logs/access.log]
  NGX_ADMIN_IMG_SRC    CSP img-src of the admin panel
                       ['self' data: blob: https://res.cloudinary.com]
  NGX_IPV6             on: also listen on [::] [off]
  NGX_DEFAULT_SERVER   on: both servers are default_server for their port [on]
 local.conf.in only:
  NGX_SITE_CONF        rendered site config to include [PREFIX/conf/emporium.conf]
  NGX_WORKERS          worker_processes [2]
  NGX_USER             "user" directive; empty: "root" when run as root,
                       none otherwise (a normal user cannot switch users) []
  NGX_ERROR_LOG_LEVEL  error_log level [warn]
 Options:
  --self-signed        local mode: create a self-signed NGX_CERT/NGX_KEY
                       (openssl) if they do not exist yet
EOF
}

template='' out='' mode=${NGX_MODE:-} list=0 selfsigned=0
while [ $# -gt 0 ]; do
	case $1 in
	--template) [ $# -ge 2 ] || die "--template needs a file"; template=$2; shift 2 ;;
	--template=*) template=${1#*=}; shift ;;
	--out) [ $# -ge 2 ] || die "--out needs a file"; out=$2; shift 2 ;;
	--out=*) out=${1#*=}; shift ;;
	--mode) [ $# -ge 2 ] || die "--mode needs production or local"; mode=$2; shift 2 ;;
	--mode=*) mode=${1#*=}; shift ;;
	--list) list=1; shift ;;
	--self-signed) selfsigned=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done

if [ -z "$mode" ]; then
	if [ -n "${NGX_PREFIX:-}" ]; then mode=local; else mode=production; fi
fi
case $mode in
production|local) ;;
*) die "--mode must be production or local, not '$mode'" ;;
esac

# ---------------------------------------------------------------- values
declare -A V
# val NAME DEFAULT: V[NAME] from NGX_NAME, or DEFAULT when unset or empty.
val() {
	local envname="NGX_$1"
	V[$1]=${!envname:-$2}
}

prefix=${NGX_PREFIX:-}
if [ "$mode" = local ]; then
	[ -n "$prefix" ] || die "NGX_PREFIX is required in local mode (a writable directory for logs, temp files and cache)"
	case $prefix in /*) ;; *) prefix=$(cd "$prefix" 2>/dev/null && pwd) || die "NGX_PREFIX=$NGX_PREFIX: no such directory" ;; esac
	prefix=${prefix%/}
fi
V[PREFIX]=$prefix

val HTTPS_PORT 443
val HTTP_PORT 80
val SERVER_NAME _
first_name=${V[SERVER_NAME]%% *}
if [[ $first_name =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then val PUBLIC_HOST "$first_name"
else val PUBLIC_HOST localhost; fi
val UPSTREAMS unix:/run/emporium/fcgi.sock
val AUTH_RATE 5r/s
val AUTH_BURST 10
val API_RATE 50r/s
val API_BURST 100
val CONN_PER_IP 100
val MAX_BODY 1m
val UPLOAD_MAX_BODY 6m
val FASTCGI_READ_TIMEOUT 30s
val ADMIN_IMG_SRC "'self' data: blob: https://res.cloudinary.com"
val IPV6 off
val DEFAULT_SERVER on
val WORKERS 2
val ERROR_LOG_LEVEL warn
V[CORS_ORIGINS]=${NGX_CORS_ORIGINS:-}
V[TRUSTED_PROXIES]=${NGX_TRUSTED_PROXIES:-}
V[METRICS_ALLOW_LIST]=${NGX_METRICS_ALLOW:-127.0.0.1 ::1}
if [ "$mode" = production ]; then
	val CERT /etc/emporium/tls/fullchain.pem
	val KEY /etc/emporium/tls/privkey.pem
	val MEDIA_ROOT /var/lib/emporium/media
	val ADMIN_ROOT /usr/share/emporium/admin
	val DOCS_ROOT /usr/share/emporium/docs
	val CACHE_DIR /var/cache/nginx/emporium
	val ACCESS_LOG /var/log/nginx/emporium.access.log
	V[SITE_CONF]=${NGX_SITE_CONF:-}
else
	val CERT "$prefix/tls/cert.pem"
	val KEY "$prefix/tls/key.pem"
	val MEDIA_ROOT "$prefix/media"
	val ADMIN_ROOT "$(cd "$here/.." && pwd)/web/admin/dist"
	val DOCS_ROOT "$(cd "$here/.." && pwd)/build/docs-site"
	val CACHE_DIR "$prefix/cache"
	val ACCESS_LOG "$prefix/logs/access.log"
	val SITE_CONF "$prefix/conf/emporium.conf"
fi
if [ -n "${NGX_USER:-}" ]; then
	V[USER]=$NGX_USER
elif [ "$(id -u)" = 0 ]; then
	V[USER]=root
else
	V[USER]=''
fi

# ------------------------------------------------------------ validation
need_port() {
	[[ ${V[$1]} =~ ^[0-9]{1,5}$ ]] && [ "${V[$1]}" -ge 1 ] && [ "${V[$1]}" -le 65535 ] ||
		die "NGX_$1='${V[$1]}': not a port number (1-65535)"
}
need_int() {
	[[ ${V[$1]} =~ ^[0-9]{1,9}$ ]] || die "NGX_$1='${V[$1]}': not a non-negative integer"
}
need_rate() {
	[[ ${V[$1]} =~ ^[1-9][0-9]*r/[sm]$ ]] || die "NGX_$1='${V[$1]}': not a rate like 5r/s or 300r/m"
}
need_size() {
	[[ ${V[$1]} =~ ^[0-9]+[kKmMgG]?$ ]] || die "NGX_$1='${V[$1]}': not a size like 1m, 512k or 1048576"
}
need_time() {
	[[ ${V[$1]} =~ ^[0-9]+(ms|s|m)?$ ]] || die "NGX_$1='${V[$1]}': not a time like 30s"
}
# Absolute path without characters nginx (or this script) would misread.
need_path() {
	[ -n "${V[$1]}" ] || die "NGX_$1 is required"
	[[ ${V[$1]} =~ ^/[A-Za-z0-9._/+@,:=~-]*$ ]] ||
		die "NGX_$1='${V[$1]}': must be an absolute path without spaces, quotes, ';', '{', '}' or '\$'"
}
need_onoff() {
	case ${V[$1]} in on|off) ;; *) die "NGX_$1='${V[$1]}': must be on or off" ;; esac
}

need_port HTTPS_PORT
need_port HTTP_PORT
[ "${V[HTTPS_PORT]}" != "${V[HTTP_PORT]}" ] || die "NGX_HTTPS_PORT and NGX_HTTP_PORT are both ${V[HTTP_PORT]}"
[[ ${V[SERVER_NAME]} =~ ^[A-Za-z0-9._*~^-]+([[:space:]]+[A-Za-z0-9._*~^-]+)*$ ]] ||
	die "NGX_SERVER_NAME='${V[SERVER_NAME]}': expected space-separated host names"
# Redirects name this host, not $host: a client's Host header must never
# choose where another page sends the browser.
[[ ${V[PUBLIC_HOST]} =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] ||
	die "NGX_PUBLIC_HOST='${V[PUBLIC_HOST]}': expected one host name, like shop.example.com"
need_rate AUTH_RATE
need_rate API_RATE
need_int AUTH_BURST
need_int API_BURST
need_int CONN_PER_IP
[ "${V[CONN_PER_IP]}" -ge 1 ] || die "NGX_CONN_PER_IP must be at least 1"
need_size MAX_BODY
need_size UPLOAD_MAX_BODY
need_time FASTCGI_READ_TIMEOUT
[[ ${V[ADMIN_IMG_SRC]} =~ ^[A-Za-z0-9\ :/._*\'+-]+$ ]] ||
	die "NGX_ADMIN_IMG_SRC='${V[ADMIN_IMG_SRC]}': expected a CSP source list (no ';', quotes other than ', or '\$')"
need_onoff IPV6
need_onoff DEFAULT_SERVER
[[ ${V[WORKERS]} =~ ^([1-9][0-9]{0,2}|auto)$ ]] || die "NGX_WORKERS='${V[WORKERS]}': a number or auto"
case ${V[ERROR_LOG_LEVEL]} in debug|info|notice|warn|error|crit|alert|emerg) ;;
*) die "NGX_ERROR_LOG_LEVEL='${V[ERROR_LOG_LEVEL]}': one of debug info notice warn error crit" ;;
esac
[ -z "${V[USER]}" ] || [[ ${V[USER]} =~ ^[A-Za-z_][A-Za-z0-9_.-]*( [A-Za-z_][A-Za-z0-9_.-]*)?$ ]] ||
	die "NGX_USER='${V[USER]}': expected 'user' or 'user group'"
for p in CERT KEY MEDIA_ROOT ADMIN_ROOT DOCS_ROOT CACHE_DIR; do need_path "$p"; done
V[MEDIA_ROOT]=${V[MEDIA_ROOT]%/}
V[ADMIN_ROOT]=${V[ADMIN_ROOT]%/}
V[DOCS_ROOT]=${V[DOCS_ROOT]%/}
V[CACHE_DIR]=${V[CACHE_DIR]%/}
if [ "${V[ACCESS_LOG]}" != off ]; then need_path ACCESS_LOG; fi
[ -z "${V[SITE_CONF]}" ] || need_path SITE_CONF

# --------------------------------------------------------- derived values
ds=''
[ "${V[DEFAULT_SERVER]}" = on ] && ds=' default_server'
V[LISTEN_HTTP]="listen ${V[HTTP_PORT]}$ds;"
V[LISTEN_HTTPS]="listen ${V[HTTPS_PORT]} ssl http2$ds;"
if [ "${V[IPV6]}" = on ]; then
	V[LISTEN_HTTP]+=$'\n'"listen [::]:${V[HTTP_PORT]}$ds;"
	V[LISTEN_HTTPS]+=$'\n'"listen [::]:${V[HTTPS_PORT]} ssl http2$ds;"
fi
if [ "${V[HTTPS_PORT]}" = 443 ]; then V[HTTPS_PORT_SUFFIX]=''; else V[HTTPS_PORT_SUFFIX]=":${V[HTTPS_PORT]}"; fi

if [ "${V[ACCESS_LOG]}" = off ]; then V[ACCESS_LOG_DIRECTIVE]=off
else V[ACCESS_LOG_DIRECTIVE]="${V[ACCESS_LOG]} emporium_json"; fi

if [ -n "${V[USER]}" ]; then V[USER_DIRECTIVE]="user ${V[USER]};"
else V[USER_DIRECTIVE]='# no "user": the master runs as a normal user, so do the workers'; fi

ups='' backups='' ntcp=0
read -r -a up_list <<<"${V[UPSTREAMS]}"
[ ${#up_list[@]} -gt 0 ] || die "NGX_UPSTREAMS is empty: give unix:/path/to.sock or host:port (several separated by spaces)"
for u in "${up_list[@]}"; do
	if [[ $u =~ ^unix:/[A-Za-z0-9._/+@,=~-]+$ ]]; then
		ups+="server $u;"$'\n'
	elif [[ $u =~ ^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$ ]] && [ "${BASH_REMATCH[2]}" -ge 1 ] && [ "${BASH_REMATCH[2]}" -le 65535 ]; then
		ups+="server $u max_fails=2 fail_timeout=5s;"$'\n'
		backups+="server $u backup max_fails=0;"$'\n'
		ntcp=$((ntcp + 1))
	else
		die "NGX_UPSTREAMS: '$u' is neither unix:/absolute/path nor host:port"
	fi
done
# Several hosts: each is skipped for fail_timeout after max_fails errors,
# and the same hosts again as backups that are never marked failed. A
# worker killed mid-request is an error too, so a burst of them (OOM
# kills, request timeouts) could mark every host failed at once, and nginx
# would answer 502 "no live upstreams" without trying any; with the
# backups it tries them. (tests/cluster: worker_kills)
[ "$ntcp" -lt 2 ] || ups+=$backups
V[UPSTREAM_SERVERS]=${ups%$'\n'}

cors=''
read -r -a origin_list <<<"${V[CORS_ORIGINS]}"
for o in ${origin_list[@]+"${origin_list[@]}"}; do
	o=${o,,}
	[[ $o =~ ^https?://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$ ]] ||
		die "NGX_CORS_ORIGINS: '$o' is not an origin like https://shop.example.com (scheme://host[:port], no path, no '*')"
	cors+="\"$o\" \"$o\";"$'\n'
done
V[CORS_MAP_ENTRIES]=${cors%$'\n'}
# Behind a load balancer: only the listed proxies may name the client in
# X-Forwarded-For (anyone else's header is ignored); the rightmost address
# that is not a trusted proxy is the client.
realip=''
for t in ${V[TRUSTED_PROXIES]}; do
	[[ $t =~ ^[0-9a-fA-F:.]+(/[0-9]{1,3})?$ ]] ||
		die "NGX_TRUSTED_PROXIES: '$t' is not an address or network (e.g. 10.0.0.0/8 or 2001:db8::/32)"
	realip+="set_real_ip_from $t;"$'\n'
done
if [ -n "$realip" ]; then
	realip+="real_ip_header X-Forwarded-For;"$'\n'"real_ip_recursive on;"
else
	realip='# no NGX_TRUSTED_PROXIES: clients connect directly (X-Forwarded-For is not trusted)'
fi
V[REAL_IP]=$realip
allow=''
for t in ${V[METRICS_ALLOW_LIST]}; do
	[[ $t =~ ^[0-9a-fA-F:.]+(/[0-9]{1,3})?$ ]] ||
		die "NGX_METRICS_ALLOW: '$t' is not an address or network (e.g. 127.0.0.1 10.0.0.0/8)"
	allow+="allow $t;"$'\n'
done
V[METRICS_ALLOW]="${allow}deny all;"

if [ $list = 1 ]; then
	echo "# mode: $mode"
	for k in PREFIX HTTPS_PORT HTTP_PORT SERVER_NAME PUBLIC_HOST TRUSTED_PROXIES METRICS_ALLOW_LIST UPSTREAMS CERT KEY MEDIA_ROOT ADMIN_ROOT DOCS_ROOT \
		CORS_ORIGINS AUTH_RATE AUTH_BURST API_RATE API_BURST CONN_PER_IP MAX_BODY \
		UPLOAD_MAX_BODY FASTCGI_READ_TIMEOUT CACHE_DIR ACCESS_LOG ADMIN_IMG_SRC IPV6 \
		DEFAULT_SERVER SITE_CONF WORKERS USER ERROR_LOG_LEVEL; do
		printf 'NGX_%s=%q\n' "$k" "${V[$k]}"
	done
	exit 0
fi

[ -n "$template" ] || { usage >&2; die "--template is required"; }
[ -n "$out" ] || { usage >&2; die "--out is required (a file, or - for stdout)"; }
[ -f "$template" ] || die "template not found: $template"
tdir=$(cd "$(dirname "$template")" && pwd)

# --------------------------------------------------------------- render
# expand FILE INDENT DEPTH: print FILE with @include lines expanded
# (without the snippets' comment and blank lines).
expand() {
	local file=$1 indent=$2 depth=$3 line inc
	[ "$depth" -le 8 ] || die "@include nested too deeply in $file"
	[ -f "$file" ] || die "@include: no such snippet: $file"
	while IFS= read -r line || [ -n "$line" ]; do
		if [[ $line =~ ^([[:space:]]*)@include[[:space:]]+([^[:space:]]+)[[:space:]]*$ ]]; then
			inc=${BASH_REMATCH[2]}
			[[ $inc = /* ]] || inc="$tdir/$inc"
			expand "$inc" "$indent${BASH_REMATCH[1]}" $((depth + 1))
		elif [ "$depth" -gt 0 ] && [[ $line =~ ^[[:space:]]*(#.*)?$ ]]; then
			continue	# snippets' own comments stay in the snippet files
		elif [ -z "$line" ]; then
			printf '\n'
		else
			printf '%s%s\n' "$indent" "$line"
		fi
	done <"$file"
}

expanded=$(expand "$template" '' 0)

# Substitute placeholders. A placeholder alone on its line may expand to
# several lines (each indented like it) or to nothing.
rendered=''
missing=''
while IFS= read -r line || [ -n "$line" ]; do
	if [[ $line =~ ^([[:space:]]*)@([A-Z][A-Z0-9_]*)@[[:space:]]*$ ]]; then
		ind=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]}
		if [ -z "${V[$name]+set}" ]; then missing+=" @$name@"; continue; fi
		if [ -n "${V[$name]}" ]; then
			while IFS= read -r vl; do rendered+="$ind$vl"$'\n'; done <<<"${V[$name]}"
		fi
		continue
	fi
	while [[ $line =~ @([A-Z][A-Z0-9_]*)@ ]]; do
		name=${BASH_REMATCH[1]}
		if [ -z "${V[$name]+set}" ]; then missing+=" @$name@"; line=${line//"@$name@"/"<missing:$name>"}; continue; fi
		case ${V[$name]} in *$'\n'*) die "@$name@ expands to several lines: it must stand alone on its line in $template" ;; esac
		line=${line//"@$name@"/"${V[$name]}"}
	done
	rendered+="$line"$'\n'
done <<<"$expanded"
[ -z "$missing" ] || die "$template uses placeholder(s) render.sh has no value for:$missing"
if grep -q '@include' <<<"$rendered"; then die "unexpanded @include left in output of $template"; fi

if [ "$mode" = local ]; then
	mkdir -p "$prefix/conf" "$prefix/logs" "$prefix/tmp" "${V[CACHE_DIR]}"
	if [ $selfsigned = 1 ] && { [ ! -f "${V[CERT]}" ] || [ ! -f "${V[KEY]}" ]; }; then
		command -v openssl >/dev/null || die "--self-signed needs openssl (apt-get install -y openssl)"
		mkdir -p "$(dirname "${V[CERT]}")" "$(dirname "${V[KEY]}")"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "${V[KEY]}" -out "${V[CERT]}" -days 30 -subj /CN=localhost \
			-addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' 2>/dev/null ||
			die "openssl could not create ${V[CERT]}"
		chmod 600 "${V[KEY]}"
	fi
	case $template in
	*emporium.conf.in)
		for f in CERT KEY; do
			[ -f "${V[$f]}" ] || die "NGX_$f=${V[$f]}: file not found (set NGX_$f, or pass --self-signed)"
		done ;;
	esac
fi

if [ "$out" = - ]; then
	printf '%s' "$rendered"
elif [ -e "$out" ] && [ ! -f "$out" ]; then
	# Not a regular file (/dev/null, a pipe): write into it, never replace it.
	printf '%s' "$rendered" >"$out"
else
	mkdir -p "$(dirname "$out")"
	tmp=$(mktemp "$out.XXXXXX")
	printf '%s' "$rendered" >"$tmp"
	chmod 644 "$tmp"
	mv -f "$tmp" "$out"
fi
