#!/usr/bin/env bash
# docs/merge-openapi.sh - kept for old habits: docs/openapi.yaml is built by
# tools/openapi/build.sh (a real merge of docs/api/*.yaml, redocly bundle
# and lint). `--check` runs its checks.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${1:-}" = "--check" ]; then
	exec "$here/../tools/openapi/build.sh" check
fi
exec "$here/../tools/openapi/build.sh" write
