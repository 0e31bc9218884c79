#!/usr/bin/env bash
# tests/contract/serve-check.sh - GET /api/v1/openapi.json and the /docs/
# page, through the shipped nginx configuration (nginx/emporium.conf.in,
# rendered with its own prefix and free ports; no application server is
# needed, both are static files from NGX_DOCS_ROOT):
#   - openapi.json is the description docs/openapi.yaml holds, as JSON
#   - /docs/ is Redoc with a per-request CSP nonce, no 'unsafe-inline' or
#     'unsafe-eval', and its scripts are served as JavaScript
#   - with Debian's chromium installed: the page renders every operation
#     and the browser reports no script or style blocked by the CSP
# Prints "ok"/"not ok" lines and "docs: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/emporium-docs-check.XXXXXX")
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
nok() { echo "not ok - $1"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
export NGX_PREFIX="$work/nginx" NGX_DOCS_ROOT="$work/site" NGX_UPSTREAMS="unix:$work/no-app.sock"
NGX_HTTPS_PORT=$(free_port) NGX_HTTP_PORT=$(free_port)
export NGX_HTTPS_PORT NGX_HTTP_PORT
stop() {
	"$top/nginx/local-nginx.sh" stop >/dev/null 2>&1
	rm -rf "$work"
}
trap stop EXIT

if ! "$top/tools/openapi/build.sh" site "$NGX_DOCS_ROOT" >"$work/site.log" 2>&1; then
	cat "$work/site.log"; nok "tools/openapi/build.sh site"; echo "docs: $passed passed, $failed failed"; exit 1
fi
if ! "$top/nginx/local-nginx.sh" start >"$work/nginx.log" 2>&1; then
	cat "$work/nginx.log"; nok "nginx starts with the rendered configuration"
	echo "docs: $passed passed, $failed failed"; exit 1
fi
base="https://127.0.0.1:$NGX_HTTPS_PORT"
get() { # get PATH NAME: headers in $work/NAME.h, body in $work/NAME.b, status printed
	curl -sk --max-time 10 -D "$work/$2.h" -o "$work/$2.b" -w '%{http_code}' "$base$1"
}
header() { grep -i "^$2:" "$work/$1.h" | head -1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'; }

# the description, as JSON, equal to docs/openapi.yaml
st=$(get /api/v1/openapi.json spec)
check "GET /api/v1/openapi.json is 200 (got $st)" [ "$st" = 200 ]
check "openapi.json is application/json" grep -qi '^content-type: application/json' "$work/spec.h"
check "openapi.json is docs/openapi.yaml" node --input-type=module -e "
	import fs from 'node:fs';
	import yaml from '$top/tests/contract/node_modules/js-yaml/index.js';
	const a = JSON.parse(fs.readFileSync('$work/spec.b', 'utf8'));
	const b = yaml.load(fs.readFileSync('$top/docs/openapi.yaml', 'utf8'));
	process.exit(JSON.stringify(a) === JSON.stringify(b) && a.openapi === '3.1.0' ? 0 : 1);"

# the page, its CSP and its scripts
st=$(get /docs redirect)
check "GET /docs redirects to /docs/ (got $st)" bash -c "[ '$st' = 301 ] && grep -qi '^location: /docs/' '$work/redirect.h'"
st=$(get /docs/ page)
check "GET /docs/ is 200 text/html (got $st)" bash -c "[ '$st' = 200 ] && grep -qi '^content-type: text/html' '$work/page.h'"
csp=$(header page content-security-policy)
nonce=$(sed -nE "s/.*script-src 'self' 'nonce-([0-9a-f]{32})'.*/\\1/p" <<<"$csp")
check "the page's CSP has a script nonce" [ -n "$nonce" ]
check "the CSP allows no 'unsafe-inline' or 'unsafe-eval'" bash -c "! grep -qE 'unsafe-inline|unsafe-eval|unsafe-hashes' <<<\"\$1\"" _ "$csp"
check "the CSP's default-src is 'none'" grep -q "default-src 'none'" <<<"$csp"
check "both script elements carry the request's nonce" \
	[ "$(grep -c "<script src=\"[a-z.]*js\" nonce=\"$nonce\"></script>" "$work/page.b")" = 2 ]
check "no inline script, no placeholder left" bash -c "! grep -qE '<script>|<script [^>]*>[^<]|EMPORIUM_CSP_NONCE' '$work/page.b'"
get /docs/ page2 >/dev/null
nonce2=$(header page2 content-security-policy | sed -nE "s/.*'nonce-([0-9a-f]{32})'.*/\\1/p")
check "every request gets another nonce" bash -c "[ -n '$nonce2' ] && [ '$nonce2' != '$nonce' ]"
for f in redoc.standalone.js docs.js; do
	st=$(get "/docs/$f" js)
	check "GET /docs/$f is 200 application/javascript (got $st)" \
		bash -c "[ '$st' = 200 ] && grep -qi '^content-type: application/javascript' '$work/js.h'"
done
st=$(get /docs/nothing.txt missing)
check "an unknown file under /docs/ is a 404 problem (got $st)" \
	bash -c "[ '$st' = 404 ] && grep -qi '^content-type: application/problem+json' '$work/missing.h'"

# the problem type pages: every "type" a problem document may carry
# resolves to its page, and nginx's own 404 names a type that does too
types=$(sed -n '/^    ProblemType:/,/^    [A-Za-z]*:$/p' "$top/docs/api/_root.yaml" | sed -n 's|^ *- \(/problems/[a-z-]*\)$|\1|p')
bad=""
for t in $types; do
	st=$(get "$t" ptype)
	[ "$st" = 200 ] && grep -qi '^content-type: text/html' "$work/ptype.h" && grep -q "<code>$t</code>" "$work/ptype.b" || bad+=" $t($st)"
done
check "each of the $(echo $types | wc -w) problem types resolves to its page${bad:+ (not:$bad)}" bash -c "[ -n '$types' ] && [ -z '$bad' ]"
get /problems/validation pval >/dev/null
check "/problems/validation lists the field error codes" bash -c "grep -q '<code>too_long</code>' '$work/pval.b' && grep -q '<code>unknown_field</code>' '$work/pval.b'"
pcsp=$(header pval content-security-policy)
check "the problem pages' CSP allows no script" bash -c "grep -q \"default-src 'none'\" <<<\"\$1\" && ! grep -q 'script-src' <<<\"\$1\"" _ "$pcsp"
st=$(get /problems/problems.css pcss)
check "GET /problems/problems.css is text/css (got $st)" bash -c "[ '$st' = 200 ] && grep -qi '^content-type: text/css' '$work/pcss.h'"
st=$(get /problems/no-such-kind pnone)
ptype=$(node -e "try{console.log(JSON.parse(require('fs').readFileSync('$work/pnone.b','utf8')).type)}catch(e){console.log('')}")
check "an unknown problem type is a 404 whose own type is /problems/not-found (got $st, $ptype)" \
	bash -c "[ '$st' = 404 ] && [ '$ptype' = /problems/not-found ]"

# a real browser, when this machine has Debian's chromium
if command -v chromium >/dev/null; then
	timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$work/chromium" --ignore-certificate-errors --enable-logging=stderr --v=0 \
		--virtual-time-budget=20000 --dump-dom "$base/docs/" >"$work/dom.html" 2>"$work/chromium.log"
	ops=$(grep -o 'operationId: [A-Za-z]*' "$top/docs/openapi.yaml" | sort -u | wc -l)
	shown=$(grep -o 'id="[^"]*operation/[A-Za-z]*"' "$work/dom.html" | sed 's/.*operation\///; s/"$//' | sort -u | wc -l)
	check "chromium renders all $ops operations (rendered $shown)" bash -c "[ '$ops' -gt 0 ] && [ '$shown' = '$ops' ]"
	check "chromium reports no script or style blocked by the CSP" \
		bash -c "! grep -E 'violates the following Content Security Policy directive.*(script|style)-src' '$work/chromium.log'"
	# what else the CSP blocked, for the reader: Redoc's footer logo from
	# cdn.redoc.ly (img-src 'self' data:; no third-party requests)
	grep -oE "Loading the [a-z]+ '[^']+' violates" "$work/chromium.log" | sort -u | sed 's/^/# chromium, blocked as meant: /'
else
	echo "skipped: /docs/ rendered in a browser (chromium is not installed)"
fi
echo "docs: $passed passed, $failed failed"
[ "$failed" = 0 ]
