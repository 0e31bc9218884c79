#!/usr/bin/env bash
# web/admin/build.sh [OUTDIR] - installs the panel's npm packages (npm ci,
# from the committed lockfile) when missing or stale, and builds the panel
# into OUTDIR (default web/admin/dist), which nginx serves at /admin/.
# Called by ./scripts/run and by the browser suite (tests/browser/run.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
if [ ! -d node_modules/esbuild ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --silent
fi
node build.mjs "$@"
