#!/usr/bin/env bash
# tests/browser/run.sh BUILD_DIR - the admin panel in a real browser.
#
# Builds the panel (web/admin/build.sh), starts a stack of its own from
# BUILD_DIR's programs (scripts/lib/stack.sh, nginx serving the built panel
# at /admin/), seeds the demo catalog, creates an admin, a staff and a
# customer account with emporium-admin create-admin (as ./scripts/run
# does; the test gives the other two their roles through the API), drives
# Debian's Chromium (/usr/bin/chromium) with playwright-core through
# panel.test.mjs. Installs chromium through scripts/lib/deps.sh when it is
# missing. Screenshots of each screen go to $BROWSER_ARTEFACTS (default
# $TEST_WORK_DIR/browser, or build/browser). Ends with "browser: N passed,
# N failed" and exits non-zero on any failure.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-}
fail() { echo "not ok - $*"; echo "browser: 0 passed, 1 failed"; exit 1; }
[ -n "$build" ] && [ -x "$build/emporium-fcgi" ] || fail "usage: tests/browser/run.sh BUILD_DIR (with emporium-fcgi built in it)"
build=$(cd "$build" && pwd)
work=${BROWSER_ARTEFACTS:-${TEST_WORK_DIR:-$top/build}/browser}
mkdir -p "$work" && work=$(cd "$work" && pwd)

if [ ! -x /usr/bin/chromium ]; then
	# shellcheck source=../../scripts/lib/deps.sh
	. "$top/scripts/lib/deps.sh"
	deps_install test || fail "chromium is missing and could not be installed (scripts/lib/deps.sh)"
	[ -x /usr/bin/chromium ] || fail "deps_install test did not install /usr/bin/chromium"
fi
if [ ! -d "$here/node_modules/playwright-core" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
	(cd "$here" && npm ci --no-audit --no-fund --silent) || fail "npm ci in tests/browser failed"
fi
"$top/web/admin/build.sh" "$work/admin-dist" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "the panel did not build (web/admin/build.sh)"; }

stack="$work/stack"
rm -rf "$stack" "$work/shots"
mkdir -p "$work/shots"
stop() { "$top/scripts/lib/stack.sh" stop "$stack" >/dev/null 2>&1 || true; }
trap stop EXIT
trap 'stop; exit 130' INT TERM
# the panel signs in several times and fires parallel API calls: the
# production rate limits would answer some of them with 429
STACK_BIN_DIR="$build" STACK_WORKERS=3 STACK_DB_NAME="emporium_browser_$$" \
STACK_ADMIN_ROOT="$work/admin-dist" STACK_LOG_LEVEL=warn \
STACK_NGX_API_RATE=5000r/s STACK_NGX_API_BURST=5000 STACK_NGX_AUTH_RATE=100r/s STACK_NGX_AUTH_BURST=100 \
	"$top/scripts/lib/stack.sh" start "$stack" >"$work/stack.start.log" 2>&1 ||
	{ tail -20 "$work/stack.start.log"; fail "the stack did not start (see $work/stack.start.log)"; }
set -a; . "$stack/stack.env"; set +a

admin_cmd() { EMPORIUM_ENV_FILE="$stack/emporium.env" "$build/emporium-admin" "$@"; }
admin_cmd seed-demo >>"$work/admin.log" 2>&1 || { tail -5 "$work/admin.log"; fail "seed-demo failed"; }
pw() { node -e 'console.log(require("crypto").randomBytes(18).toString("base64url"))'; }
BROWSER_ADMIN_EMAIL=admin@browser.emporium.test BROWSER_ADMIN_PASSWORD=$(pw)
BROWSER_STAFF_EMAIL=staff@browser.emporium.test BROWSER_STAFF_PASSWORD=$(pw)
# create-admin makes admins; the test demotes the second one to staff through the API
printf '%s\n' "$BROWSER_ADMIN_PASSWORD" | admin_cmd create-admin --email "$BROWSER_ADMIN_EMAIL" >>"$work/admin.log" 2>&1 ||
	fail "create-admin failed (see $work/admin.log)"
printf '%s\n' "$BROWSER_STAFF_PASSWORD" | admin_cmd create-admin --email "$BROWSER_STAFF_EMAIL" >>"$work/admin.log" 2>&1 ||
	fail "create-admin (staff) failed (see $work/admin.log)"
# and the third, the customer who places an order through the API
BROWSER_CUSTOMER_EMAIL=customer@browser.emporium.test BROWSER_CUSTOMER_PASSWORD=$(pw)
printf '%s\n' "$BROWSER_CUSTOMER_PASSWORD" | admin_cmd create-admin --email "$BROWSER_CUSTOMER_EMAIL" >>"$work/admin.log" 2>&1 ||
	fail "create-admin (customer) failed (see $work/admin.log)"
export BROWSER_ADMIN_EMAIL BROWSER_ADMIN_PASSWORD BROWSER_STAFF_EMAIL BROWSER_STAFF_PASSWORD
export BROWSER_CUSTOMER_EMAIL BROWSER_CUSTOMER_PASSWORD
export BROWSER_SHOTS="$work/shots" BROWSER_NGINX_LOGS="$stack/nginx/logs"

# Node checks the stack's self-signed certificate against its own file
NODE_EXTRA_CA_CERTS="$STACK_CA" node "$here/panel.test.mjs"
rc=$?
echo "screenshots: $work/shots"
exit $rc
