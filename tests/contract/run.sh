#!/usr/bin/env bash
# tests/contract/run.sh LOG - the contract suite, after the integration
# suites ran with EM_CONTRACT_LOG=LOG (see scripts/test):
#   1. selftest.mjs: the validator fails what it must fail
#   2. validate.mjs LOG: every recorded response against docs/openapi.yaml
#   3. serve-check.sh: /api/v1/openapi.json and /docs/ through nginx
# Ends with "contract: N passed, N failed" (the sum of the three).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log=${1:-${STACK_DIR:+$STACK_DIR/contract.jsonl}}
[ -n "$log" ] || { echo "usage: tests/contract/run.sh [CONTRACT_LOG.jsonl] (default: $STACK_DIR/contract.jsonl)"; exit 2; }
if [ ! -d "$here/node_modules/ajv" ]; then
	(cd "$here" && npm ci --no-audit --no-fund --silent) || { echo "npm ci in tests/contract failed"; echo "contract: 0 passed, 1 failed"; exit 1; }
fi
passed=0 failed=0
tally() { # tally OUTPUT RC
	local line p f
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' <<<"$1" | tail -1)
	p=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
	f=$(sed -E 's/^([A-Za-z-]+: )?[0-9]+ passed, ([0-9]+) failed.*/\2/' <<<"$line")
	[ -n "$line" ] || { p=0 f=0; }
	[ "$2" = 0 ] || [ "$f" != 0 ] || f=1
	passed=$((passed + p)); failed=$((failed + f))
}
out=$(node "$here/selftest.mjs" 2>&1); rc=$?; echo "$out"
if [ "$rc" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
if [ -s "$log" ]; then
	out=$(node "$here/validate.mjs" "$log" 2>&1); rc=$?; echo "$out"; tally "$out" "$rc"
else
	echo "not ok - no contract log at $log (EM_CONTRACT_LOG was not set for the integration suites?)"
	failed=$((failed + 1))
fi
out=$("$here/serve-check.sh" 2>&1); rc=$?; echo "$out"; tally "$out" "$rc"
# a check that could not run is named ("skipped: ...") and counted apart
skipped=$(grep -c '^skipped: ' <<<"$out")
echo "contract: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
