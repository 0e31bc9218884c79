#!/usr/bin/env bash
# install-check.sh BUILD_DIR - `make install DESTDIR=...` puts everything a
# production host needs where README.md says, with the placeholders filled
# in. Prints ok/not ok lines and "N passed, N failed".
set -uo pipefail
build=$(realpath "$1")
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
pass=0 fail=0
check() { # check NAME COMMAND...
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then echo "ok - $name"; pass=$((pass + 1));
	else echo "not ok - $name"; fail=$((fail + 1)); fi
}
prefix=$(sed -n 's/^prefix = //p' "$build/Makefile")
sysconf=$(sed -n 's/^sysconfdir = //p' "$build/Makefile" | sed "s|\${prefix}|$prefix|")
check "make install DESTDIR" make -C "$build" -s install DESTDIR="$dest"
for f in "$prefix/bin/emporium-fcgi" "$prefix/bin/emporium-admin"; do
	check "installed $f" test -x "$dest$f"
done
unitdir="$dest$prefix/lib/systemd/system"
for u in emporium-fcgi.service emporium-worker.service; do
	check "unit $u installed" test -s "$unitdir/$u"
	check "unit $u has no placeholders left" bash -c "! grep -q '@[a-z]*@' '$unitdir/$u'"
	check "unit $u runs the installed binary" grep -q "^ExecStart=$prefix/bin/" "$unitdir/$u"
done
check "tmpfiles.d entry" test -s "$dest$prefix/lib/tmpfiles.d/emporium.conf"
check "sysusers.d entry" test -s "$dest$prefix/lib/sysusers.d/emporium.conf"
check "env example" test -s "$dest$sysconf/emporium/emporium.env.example"
check "nginx site rendered" test -s "$dest$sysconf/nginx/conf.d/emporium.conf"
check "nginx site has no placeholders" bash -c "! grep -q '@[A-Z_]*@' '$dest$sysconf/nginx/conf.d/emporium.conf'"
if [ -d "$(dirname "$0")/../../templates" ]; then
	check "mail templates installed" bash -c "ls '$dest$prefix/share/emporium/templates/' | grep -q ."
fi
# the admin panel: built by make install, where the nginx site's /admin/ points
datadir=$(sed -n 's/^datadir = //p' "$build/Makefile" | sed "s|\${datarootdir}|$prefix/share|; s|\${prefix}|$prefix|")
admin="$dest$datadir/emporium/admin"
check "admin panel installed (index.html and the script it loads)" bash -c \
	"js=\$(grep -o '/admin/main-[A-Za-z0-9]*\\.js' '$admin/index.html') && test -s '$admin/'\${js#/admin/}"
check "nginx /admin/ is the installed panel" grep -q "alias $datadir/emporium/admin/;" "$dest$sysconf/nginx/conf.d/emporium.conf"
# the API description, its documentation page and the problem types' pages
# (/problems/<slug>: the "type" of every problem+json answer resolves)
docs="$dest$datadir/emporium/docs"
check "API description installed (openapi.json, a JSON OpenAPI document)" \
	node -e "const d=JSON.parse(require('fs').readFileSync('$docs/openapi.json','utf8')); if (!d.openapi || !d.paths) process.exit(1)"
check "API documentation page installed (index.html, docs.js, redoc.standalone.js)" \
	test -s "$docs/index.html" -a -s "$docs/docs.js" -a -s "$docs/redoc.standalone.js"
check "problem type pages installed (/problems/validation, the index)" \
	test -s "$docs/problems/validation.html" -a -s "$docs/problems/index.html"
check "nginx serves the installed description" grep -q "alias $datadir/emporium/docs/openapi.json;" "$dest$sysconf/nginx/conf.d/emporium.conf"
check "make uninstall" make -C "$build" -s uninstall DESTDIR="$dest"
check "nothing left after uninstall" bash -c "[ -z \"\$(find '$dest' -type f)\" ]"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
