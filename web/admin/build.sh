#!/usr/bin/env bash
# web/admin/build.sh [OUTDIR] - installs the panel's npm packages (npm ci,
# from the committed lockfile) when missing or stale, and builds the panel
# into OUTDIR (default web/admin/dist), which nginx serves at /admin/.
# Called by ./scripts/run, the browser suite (tests/browser/run.sh) and
# `make install` (make admin-panel).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
# one build at a time per checkout (make install, the browser suite and
# ./scripts/run may run together): npm ci replaces node_modules under a
# concurrent esbuild. The lock is on this directory, so no file is left.
if command -v flock >/dev/null 2>&1; then
	exec 9<"$here"
	flock 9
fi
if [ ! -d node_modules/esbuild ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --silent
fi
node build.mjs "$@"
