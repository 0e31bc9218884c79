#!/usr/bin/env bash
# self-test.sh - the test runner's own test. Drives scripts/lib/runner.sh
# (the code ./scripts/test runs every suite with) against the fixture
# suites in this folder and checks that each broken one makes the run
# fail, for the right reason, and that a good one passes (so the failures
# are the fixtures' doing). Builds nothing and starts no stack: a few
# seconds. Prints ok/not ok lines and "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=../../scripts/lib/runner.sh
. "$top/scripts/lib/runner.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $1"; fail=$((fail + 1)); [ -z "${2:-}" ] || sed 's/^/    /' "$2"; }

# scenario NAME WANT PATTERN FUNCTION: runs FUNCTION as a whole run of the
# runner (fresh state, in a subshell) and checks its exit status, its last
# line, and that its output matches PATTERN (grep -E).
scenario() {
	local name=$1 want=$2 pattern=$3 fn=$4 rc out="$tmp/$4.log" last
	(runner_init "$tmp/$fn" || exit 99; "$fn"; runner_finish) >"$out" 2>&1
	rc=$?
	last=$(tail -1 "$out")
	if [ "$want" = pass ]; then
		if [ "$rc" = 0 ] && [[ $last =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]] &&
			grep -qE "$pattern" "$out"; then
			ok "$name"
		else
			not_ok "$name (exit $rc, wanted success and /$pattern/)" "$out"
		fi
	else
		if [ "$rc" != 0 ] && [[ $last =~ ^[0-9]+\ passed,\ [1-9][0-9]*\ failed$ ]] &&
			grep -qE "$pattern" "$out"; then
			ok "$name"
		else
			not_ok "$name (exit $rc, wanted a failure and /$pattern/)" "$out"
		fi
	fi
}

s_pass() { runner_expect unit/fixture-pass; runner_run unit/fixture-pass 20 "$here/fixture-pass"; }
scenario "a passing suite passes" pass 'unit/fixture-pass: 2 passed, 0 failed' s_pass

s_empty() { runner_expect unit/fixture-empty; runner_run unit/fixture-empty 20 "$here/fixture-empty"; }
scenario "a suite that exits 0 having run no test fails" fail \
	'unit/fixture-empty: 0 passed, 1 failed \(ran no test\)' s_empty

s_segv() { runner_expect unit/fixture-segv; runner_run unit/fixture-segv 20 "$here/fixture-segv"; }
scenario "a suite that crashes with SIGSEGV fails" fail \
	'unit/fixture-segv: 0 passed, 1 failed \(killed by SIGSEGV\)' s_segv

s_hang() {
	local start=$SECONDS
	RUNNER_KILL_AFTER=1
	runner_expect unit/fixture-hang
	runner_run unit/fixture-hang 2 "$here/fixture-hang"
	# 2 s, then SIGTERM (ignored), then SIGKILL 1 s later
	[ $((SECONDS - start)) -lt 10 ] || echo "the hung suite held the run for $((SECONDS - start)) s"
	runner_run unit/fixture-pass 20 "$here/fixture-pass" # the run goes on after it
}
scenario "a suite that hangs is stopped by its timeout and fails by name" fail \
	'unit/fixture-hang: 0 passed, 1 failed \(hung: stopped by the 2s timeout\)' s_hang
if grep -q 'held the run' "$tmp/s_hang.log" || ! grep -q 'unit/fixture-pass: 2 passed' "$tmp/s_hang.log"; then
	not_ok "the timeout freed the run promptly and the next suite ran" "$tmp/s_hang.log"
else
	ok "the timeout freed the run promptly and the next suite ran"
fi

s_missing() {
	runner_expect unit/test_a unit/test_b
	runner_run unit/test_a 20 "$here/fixture-pass"
}
scenario "an expected suite that did not run fails the run" fail \
	'unit/test_b +0 passed, 1 failed \(did not run: never started\)' s_missing

s_zero_line() { runner_run openapi 20 bash -c 'echo "0 passed, 0 failed"'; }
scenario "a script suite counting zero tests fails" fail 'openapi: 0 passed, 1 failed \(ran no test\)' s_zero_line

s_exit_after_pass() { runner_run config 20 bash -c 'echo "3 passed, 0 failed"; exit 3'; }
scenario "a suite that counts passes but exits non-zero fails" fail \
	'config: 3 passed, 1 failed \(exit status 3\)' s_exit_after_pass

s_exit_255() { runner_run unit/exit255 20 bash -c 'echo "1 passed, 0 failed"; exit 255'; }
scenario "exit status 255 is an exit status, not a signal" fail \
	'unit/exit255: 1 passed, 1 failed \(exit status 255\)' s_exit_255

s_unfinished() {
	runner_run unit/unfinished 20 bash -c \
		"echo '[==========] Running 2 test(s).'; echo '[ RUN      ] test_a'; echo '[       OK ] test_a'"
}
scenario "a cmocka group that never finished fails" fail \
	'unit/unfinished: 0 passed, 1 failed \(a test group never finished\)' s_unfinished

s_cmocka_failure() {
	runner_run unit/failing 20 bash -c \
		"echo '[==========] Running 1 test(s).'; echo '[==========] 1 test(s) run.'; echo '[  PASSED  ] 0 test(s).'; echo '[  FAILED  ] 1 test(s), listed below:'; echo '[  FAILED  ] test_a'; exit 1"
}
scenario "a failed cmocka test fails" fail 'unit/failing: 0 passed, 1 failed' s_cmocka_failure

s_sanitizer() {
	runner_run asan:unit/leaky 20 bash -c \
		"echo '==1==ERROR: LeakSanitizer: detected memory leaks' >&2; echo '2 passed, 0 failed'"
}
scenario "a sanitizer report fails a suite that passed and exited 0" fail \
	'asan:unit/leaky: 2 passed, 1 failed \(a sanitizer report in its output\)' s_sanitizer

s_skip() { runner_run integration/fixture-skip 20 "$here/fixture-skip"; }
scenario "a skip is counted and named, not passed" pass \
	'^1 skipped:$' s_skip
if grep -q '^  integration/fixture-skip: test_needs_more$' "$tmp/s_skip.log" &&
	grep -q '^1 passed, 0 failed$' "$tmp/s_skip.log"; then
	ok "the skipped test is named at the end and not counted as passed"
else
	not_ok "the skipped test is named at the end and not counted as passed" "$tmp/s_skip.log"
fi

s_note_skip() {
	runner_run config 20 bash -c 'echo "ok - a"; echo "# skipped: the root-only check (not root)"; echo "1 passed, 0 failed"'
}
scenario "a script suite's '# skipped:' note is a counted, named skip" pass \
	'^  config: the root-only check \(not root\)$' s_note_skip

# The bug this runner replaced: suites were found by globbing the build
# tree and skipping any path containing a dot, so a checkout in
# ~/src/emporium-0.3 ran almost nothing and passed. The list now comes
# from the build (make print-tests), whatever the path.
dotted="$tmp/src/emporium-0.3/build/werror"
mkdir -p "$dotted/tests/unit"
cp "$here/fixture-pass" "$dotted/tests/unit/test_a"
cp "$here/fixture-pass" "$dotted/tests/unit/test_b.v2"
printf 'print-tests:\n\t@echo "UNIT_TESTS = tests/unit/test_a tests/unit/test_b.v2"\n' >"$dotted/Makefile"
s_dotted() {
	local t list
	list=$(runner_build_list "$dotted" UNIT_TESTS)
	for t in $list; do runner_expect "unit/${t##*/}"; done
	for t in $list; do runner_run "unit/${t##*/}" 20 "$dotted/$t"; done
}
scenario "in a path with a dot every suite of the build's list runs" pass \
	'suites run \(2\)' s_dotted
if grep -q '^  unit/test_a .*2 passed, 0 failed' "$tmp/s_dotted.log" &&
	grep -q '^  unit/test_b.v2 .*2 passed, 0 failed' "$tmp/s_dotted.log"; then
	ok "both suites of the dotted path ran"
else
	not_ok "both suites of the dotted path ran" "$tmp/s_dotted.log"
fi

# --only: which IDs a pattern selects
only_case() { # only_case PATTERN ID yes|no
	local got=no what="does not select"
	[ "$3" = no ] || what=selects
	RUNNER_ONLY=$1 runner_selected "$2" && got=yes
	if [ "$got" = "$3" ]; then ok "--only '$1' $what $2"; else not_ok "--only '$1' $what $2"; fi
}
only_case test_cart unit/test_cart yes
only_case test_cart integration/test_cart yes
only_case test_cart asan:unit/test_cart no
only_case asan:test_cart asan:integration/test_cart yes
only_case asan:test_cart unit/test_cart no
only_case unit unit/test_json yes
only_case unit asan:unit/test_json no
only_case unit integration/test_json no
only_case integration/test_cart unit/test_cart no
only_case asan asan:unit/test_json yes
only_case valgrind valgrind:unit/test_json yes
only_case valgrind unit/test_json no
only_case config config yes
only_case "config unit" unit/test_json yes

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
