#!/usr/bin/env bash
# tests/fuzz/run.sh - builds the libFuzzer harnesses in their own tree and
# runs each one under ASan + UBSan, starting from its seed corpus.
#
#   tests/fuzz/run.sh [--seconds N] [--only NAME[,NAME...]] [--build DIR]
#
#   --seconds N   fuzzing time per harness (default $FUZZ_SECONDS, else 60)
#   --only NAMES  only these harnesses (fuzz_json,fuzz_probe)
#   --build DIR   the build tree (default $TEST_BUILD_ROOT/fuzz, else
#                 build/fuzz): configured once with
#                 CC=clang --enable-asan --enable-ubsan and
#                 CFLAGS=-fsanitize=fuzzer-no-link, so the gcc -Werror trees
#                 never see clang or libFuzzer
#
# Each harness first replays every seed in tests/fuzz/corpus/NAME (the
# inputs of fixed findings are kept there), then mutates for N seconds.
# New inputs go to DIR/fuzz-work/corpus/NAME, never into the repository;
# a crash leaves its input in DIR/fuzz-work/artifacts/ and fails the run.
# Ends with "N passed, N failed" (one per harness); exit 1 on any failure.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${FUZZ_SECONDS:-60}
only=""
build="${TEST_BUILD_ROOT:-$top/build}/fuzz"
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
case $seconds in ''|*[!0-9]*) echo "run.sh: --seconds needs a whole number" >&2; exit 2 ;; esac

all="fuzz_parse fuzz_request fuzz_multipart fuzz_probe fuzz_json fuzz_cursor fuzz_auth fuzz_template
fuzz_pricing fuzz_ipn"
names=${only//,/ }
names=${names:-$all}

command -v clang >/dev/null || { echo "run.sh: clang is missing (scripts/lib/deps.sh installs it)" >&2; exit 1; }

# configure once per set of arguments, like build_tree in scripts/lib/deps.sh
cfg_args="CC=clang --enable-asan --enable-ubsan CFLAGS=-g -O1 -fsanitize=fuzzer-no-link"
[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null 2>&1) ||
	{ echo "run.sh: autoreconf failed" >&2; exit 1; }
mkdir -p "$build"
if [ ! -f "$build/Makefile" ] || [ "$top/configure" -nt "$build/Makefile" ] ||
	[ "$(cat "$build/.configure-args" 2>/dev/null)" != "$cfg_args" ]; then
	(cd "$build" && "$top/configure" CC=clang --enable-asan --enable-ubsan \
		CFLAGS="-g -O1 -fsanitize=fuzzer-no-link" >configure.out 2>&1) ||
		{ echo "run.sh: configure failed: see $build/config.log" >&2; tail -5 "$build/configure.out" >&2; exit 1; }
	echo "$cfg_args" >"$build/.configure-args"
fi
targets=""
for n in $names; do targets="$targets tests/fuzz/$n"; done
# shellcheck disable=SC2086
if ! make -C "$build" -j"$(nproc)" $targets >"$build/fuzz-make.out" 2>&1; then
	grep -E 'error:|undefined reference|No rule' "$build/fuzz-make.out" | head -30 >&2
	echo "run.sh: the harnesses did not build: see $build/fuzz-make.out" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

work="$build/fuzz-work"
mkdir -p "$work/artifacts"
# abort_on_error: a finding kills the process, as libFuzzer expects;
# leaks count (detect_leaks), and UBSan findings are fatal (the tree is
# built with -fno-sanitize-recover=undefined).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0
for n in $names; do
	seeds="$top/tests/fuzz/corpus/$n"
	corpus="$work/corpus/$n"
	mkdir -p "$corpus"
	rm -f "$work/artifacts/$n-"*
	args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536
		-print_final_stats=1 -artifact_prefix="$work/artifacts/$n-")
	[ -f "$top/tests/fuzz/dict/$n.dict" ] && args+=(-dict="$top/tests/fuzz/dict/$n.dict")
	out="$work/$n.log"
	if "$build/tests/fuzz/$n" "${args[@]}" "$corpus" "$seeds" >"$out" 2>&1; then
		runs=$(grep -E '^stat::number_of_executed_units' "$out" | awk '{print $2}')
		echo "$n: ok (${runs:-?} runs in ${seconds}s; corpus $(find "$corpus" -type f | wc -l) inputs)"
		passed=$((passed + 1))
	else
		echo "$n: FAILED"
		grep -E -A30 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz: ' "$out" | head -60
		ls "$work/artifacts/$n-"* 2>/dev/null | sed 's/^/  input: /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
