#!/usr/bin/env bash
# bench/jobs/run.sh - the job worker's throughput, one run on this machine:
#   email  N verify_email jobs through ONE emporium-worker to the local SMTP
#          catcher (render + MIME + SMTP + the job's writes)
#   claim  N jobs of a type no handler knows, with EMPORIUM_JOB_MAX_ATTEMPTS=1:
#          each is one claim (findAndModify) + one outcome write and nothing
#          else, i.e. the outbox's own overhead per job
# Writes the section "Job worker" of bench/RESULTS.md (a rerun replaces it).
#
#   bench/jobs/run.sh [N]   (default 2000; BIN_DIR = a built tree, default
#                            build/bench, built with --enable-werror if absent)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
. scripts/lib/deps.sh
. bench/lib.sh
n=${1:-2000}
bin=${BIN_DIR:-$top/build/bench}
[ -x "$bin/emporium-worker" ] || build_tree "$bin" --enable-werror
dir=$(mktemp -d /tmp/emporium-bench-jobs.XXXXXX)
wpid=""
trap '[ -n "$wpid" ] && kill "$wpid" 2>/dev/null; scripts/lib/stack.sh stop "$dir/stack" >/dev/null 2>&1; rm -rf "$dir"' EXIT

STACK_BIN_DIR="$bin" STACK_WORKERS=1 STACK_LOG_LEVEL=warn STACK_DB_NAME=bench_stack \
	scripts/lib/stack.sh start "$dir/stack" >/dev/null 2>&1
. "$dir/stack/stack.env"

# run_one DB TYPE [EXTRA_ENV...]: fill, start one worker, time the drain
run_one() {
	local db=$1 type=$2 secs; shift 2
	node bench/jobs/feed.js insert "$STACK_MONGODB_URI" "$db" "$n" "$type"
	env EMPORIUM_ENV_FILE="$STACK_ENV_FILE" EMPORIUM_DB_NAME="$db" EMPORIUM_LOG_LEVEL=warn \
		EMPORIUM_JOB_POLL_MS=50 "$@" "$bin/emporium-worker" >>"$dir/worker.log" 2>&1 &
	wpid=$!
	secs=$(node bench/jobs/feed.js wait "$STACK_MONGODB_URI" "$db" "$n")
	kill -TERM "$wpid"; wait "$wpid" || true; wpid=""
	echo "$secs"
}

t_email=$(run_one bench_email email)
mails=$(find "$STACK_MAIL_DIR" -name '*.eml' | wc -l)
t_claim=$(run_one bench_claim bench_no_handler EMPORIUM_JOB_MAX_ATTEMPTS=1)

rate() { awk -v n="$n" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
per() { awk -v n="$n" -v t="$1" 'BEGIN { printf "%.2f", t * 1000 / n }'; }
report=$({
	echo "## Job worker ($(date -u +%F), $(nproc) cores, one emporium-worker, $n jobs, mongo-standin, local aiosmtpd catcher)"
	echo
	echo "| run | jobs/s | ms per job |"
	echo "|---|---:|---:|"
	echo "| email: render + MIME + SMTP + claim/outcome writes | $(rate "$t_email") | $(per "$t_email") |"
	echo "| claim + outcome write only (no handler) | $(rate "$t_claim") | $(per "$t_claim") |"
	echo
	echo "Mails received by the catcher: $mails of $n. The claim overhead is" \
	     "$(awk -v a="$t_claim" -v b="$t_email" 'BEGIN { printf "%.0f", a * 100 / b }')% of an email job's time."
})
bench_write_section "Job worker" "$report"
