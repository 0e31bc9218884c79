# runner.sh - the engine of ./scripts/test: runs suites under a timeout,
# counts their tests, and refuses a run in which an expected suite did not
# run, ran no test, crashed or hung. Sourced by scripts/test and by its own
# self-test (tests/runner/self-test.sh), so both exercise the same code.
#
#   runner_init WORK_DIR           start a run; suite outputs go to WORK_DIR
#   runner_expect ID...            suites that must run (scripts/test takes
#                                  the C suites' list from the build)
#   runner_selected ID             is ID chosen by RUNNER_ONLY (--only)?
#   runner_run ID TIMEOUT CMD...   run one suite and count its tests
#   runner_not_run ID REASON       a suite that could not run (a failure)
#   runner_build_list DIR VAR      a list the build knows (make print-tests)
#   runner_finish                  the summary; non-zero unless all passed
#
# A suite ID is [VARIANT:]KIND/NAME (unit/test_cart, asan:integration/
# test_cart, valgrind:unit/test_json) or [VARIANT:]NAME for a script suite
# (config, openapi). VARIANT is plain when absent.
#
# A suite reports its counts either as cmocka's summary lines or as one
# line "N passed, N failed" (optionally "PREFIX: " before it and
# ", N skipped" after it; the last such line counts). A skip is never a
# pass: skipped tests are counted and named at the end. A script suite
# names a skipped test with a line "skipped: NAME (why)" (or "# skipped:").
#
# Globals: runner_passed, runner_failed, runner_skipped (counts),
# RUNNER_ONLY (patterns, space separated), RUNNER_KILL_AFTER (seconds
# between the timeout's SIGTERM and SIGKILL, default 10).

RUNNER_SANITIZER_RE='ERROR: (AddressSanitizer|LeakSanitizer)|^(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer):|runtime error:'

runner_init() {
	RUNNER_WORK=$1
	mkdir -p "$RUNNER_WORK" || return 1
	runner_passed=0 runner_failed=0 runner_skipped=0
	runner_expected=() runner_failures=() runner_skips=()
	declare -gA runner_result=()
	runner_child=""
}

runner_expect() {
	local id
	for id in "$@"; do
		[[ " ${runner_expected[*]} " == *" $id "* ]] || runner_expected+=("$id")
	done
}

# runner_id_parts ID: sets r_variant, r_rest, r_kind, r_name.
runner_id_parts() {
	local id=$1
	r_variant=plain r_rest=$id
	if [[ $id == *:* ]]; then
		r_variant=${id%%:*} r_rest=${id#*:}
	fi
	r_kind=${r_rest%%/*} r_name=${r_rest##*/}
}

# runner_match PATTERN ID: PATTERN is [VARIANT:]REST; REST is a whole ID
# rest, a kind (unit, integration) or a name (test_cart). A bare variant
# (asan, valgrind, plain) matches all of its suites.
runner_match() {
	local pat=$1 id=$2 p_variant=plain p_rest
	runner_id_parts "$id"
	case $pat in
	asan | valgrind | plain) [ "$pat" = "$r_variant" ]; return ;;
	esac
	p_rest=$pat
	if [[ $pat == *:* ]]; then
		p_variant=${pat%%:*} p_rest=${pat#*:}
	fi
	[ "$p_variant" = "$r_variant" ] || return 1
	[ "$p_rest" = "$r_rest" ] || [ "$p_rest" = "$r_kind" ] || [ "$p_rest" = "$r_name" ]
}

runner_selected() {
	local pat
	[ -n "${RUNNER_ONLY:-}" ] || return 0
	for pat in $RUNNER_ONLY; do
		runner_match "$pat" "$1" && return 0
	done
	return 1
}

# runner_record ID PASSED FAILED SKIPPED NOTE SECONDS: adds a suite's result.
runner_record() {
	local id=$1 p=$2 f=$3 s=$4 note=$5 secs=$6 line
	runner_expect "$id"
	runner_passed=$((runner_passed + p))
	runner_failed=$((runner_failed + f))
	runner_skipped=$((runner_skipped + s))
	[ "$f" = 0 ] || runner_failures+=("$id")
	line=$(printf '%d passed, %d failed' "$p" "$f")
	[ "$s" = 0 ] || line+=", $s skipped"
	[ -z "$note" ] || line+=" ($note)"
	[ -z "$secs" ] || line+=" [${secs}s]"
	runner_result[$id]=$line
	printf '%s: %s\n' "$id" "$line"
}

# runner_count ID FILE RC SECONDS LIMIT: reads a suite's counts from its
# output. A suite that exited non-zero, died of a signal, timed out, or
# ran no test at all is a failure whatever it printed.
runner_count() {
	local id=$1 out=$2 rc=$3 secs=$4 limit=$5 p=0 f=0 s=0 note="" line started finished name
	if grep -qE '^\[==========\] Running [0-9]+ test' "$out"; then
		p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$out" | awk '{s+=$4} END {print s+0}')
		f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$out" | awk '{s+=$4} END {print s+0}')
		s=$(grep -E '^\[  SKIPPED \] [0-9]+ test' "$out" | awk '{s+=$4} END {print s+0}')
		started=$(grep -cE '^\[==========\] Running [0-9]+ test' "$out")
		finished=$(grep -cE '^\[==========\] [0-9]+ test\(s\) run\.' "$out")
		[ "$started" = "$finished" ] || note="a test group never finished"
		while IFS= read -r name; do
			runner_skips+=("$id: $name")
		done < <(grep -E '^\[  SKIPPED \] ' "$out" | grep -vE '^\[  SKIPPED \] [0-9]+ test' |
			sed 's/^\[  SKIPPED \] //' | sort -u)
	elif line=$(grep -E '^([A-Za-z0-9_ -]+: )?[0-9]+ passed, [0-9]+ failed' "$out" | tail -1); then
		line=${line#*: }
		p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
		f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
		if [[ $line =~ ,\ ([0-9]+)\ skipped ]]; then s=${BASH_REMATCH[1]}; fi
		# named skips ("skipped: ...", or "# skipped: ..." as a TAP-style
		# note) count even when the summary line leaves them out
		local named=0
		while IFS= read -r name; do
			runner_skips+=("$id: $name")
			named=$((named + 1))
		done < <(sed -n 's/^\(# \)\{0,1\}skipped: //p' "$out")
		[ "$s" -ge "$named" ] || s=$named
	fi
	# a sanitizer report fails the suite even if its tests passed and it
	# exited 0 (UBSan recovers; a sanitizer that cannot read its
	# suppressions goes on without them)
	local san=""
	grep -qE "$RUNNER_SANITIZER_RE" "$out" && san="a sanitizer report in its output"
	if [ "$rc" = 124 ] || { [ "$rc" = 137 ] && [ "$secs" -ge "$limit" ]; }; then
		note="hung: stopped by the ${limit}s timeout"
	elif [ "$rc" -gt 128 ] && [ "$rc" -le 192 ] && kill -l $((rc - 128)) >/dev/null 2>&1; then
		# 128 + N is how a shell reports death by signal N (255 is exit(-1))
		note="killed by SIG$(kill -l $((rc - 128)))"
	elif [ "$rc" != 0 ] && [ -z "$note" ]; then
		note="exit status $rc"
	fi
	if [ $((p + f)) = 0 ] && [ -z "$note" ]; then
		note="ran no test"
	fi
	[ -z "$san" ] || note="${note:+$note; }$san"
	# whatever it counted, a suite with something wrong fails
	if [ -n "$note" ] && [ "$f" = 0 ]; then
		f=1
	fi
	runner_record "$id" "$p" "$f" "$s" "$note" "$secs"
}

# Stops the suite in hand (its whole process group, through timeout) when
# the run itself is interrupted.
runner_interrupt() {
	[ -z "$runner_child" ] || kill -TERM "$runner_child" 2>/dev/null
	[ -z "$runner_child" ] || wait "$runner_child" 2>/dev/null
	runner_child=""
	echo "interrupted" >&2
	exit 130
}

# runner_run ID TIMEOUT CMD...: runs CMD with its output in WORK/ID.out,
# shows what matters of it, and counts it. timeout(1) puts the suite in
# its own process group and kills the whole group: a hung suite fails
# with its name instead of hanging the run. The subshell restores SIGINT,
# which bash ignores in background jobs (a server a suite starts and stops
# with SIGINT would otherwise never see it).
runner_run() {
	local id=$1 limit=$2 out rc start; shift 2
	out="$RUNNER_WORK/${id//[:\/]/-}.out"
	start=$SECONDS
	(trap - INT QUIT; exec timeout --kill-after="${RUNNER_KILL_AFTER:-10}" "$limit" "$@" \
		</dev/null >"$out" 2>&1) &
	runner_child=$!
	wait "$runner_child" 2>/dev/null; rc=$? # (bash would print "Aborted" itself)
	runner_child=""
	runner_count "$id" "$out" "$rc" $((SECONDS - start)) "$limit" >"$out.result"
	if [[ " ${runner_failures[*]} " == *" $id "* ]]; then
		grep -vE '^\[ (RUN|      OK) ' "$out" | tail -40
		echo "(the whole output: $out)"
	fi
	cat "$out.result"
}

runner_not_run() {
	runner_record "$1" 0 1 0 "did not run: $2" ""
}

# runner_build_list DIR VAR: the words of make variable VAR (UNIT_TESTS,
# INTEGRATION_TESTS, check_PROGRAMS) in the configured build tree DIR, as
# the build itself knows them (the print-tests target of Makefile.am).
runner_build_list() {
	make -s --no-print-directory -C "$1" print-tests 2>/dev/null | sed -n "s/^$2 = //p"
}

# The summary: every suite and its counts, the skipped tests by name, the
# suites that failed, and last, alone on its line, "N passed, N failed".
runner_finish() {
	local id
	for id in "${runner_expected[@]}"; do
		[ -n "${runner_result[$id]+x}" ] || runner_not_run "$id" "never started" >/dev/null
	done
	echo
	echo "suites run (${#runner_expected[@]}):"
	for id in "${runner_expected[@]}"; do
		printf '  %-44s %s\n' "$id" "${runner_result[$id]}"
	done
	if [ "$runner_skipped" != 0 ]; then
		echo "$runner_skipped skipped:"
		printf '  %s\n' "${runner_skips[@]}"
	fi
	[ ${#runner_failures[@]} = 0 ] || echo "failed suites: ${runner_failures[*]}"
	echo "$runner_passed passed, $runner_failed failed"
	[ "$runner_failed" = 0 ] && [ "$runner_passed" -gt 0 ]
}
