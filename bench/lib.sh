# bench/lib.sh - sourced by the benchmark scripts.

# bench_write_section TITLE REPORT: prints REPORT and appends it to
# bench/RESULTS.md (every run's table is kept, newest last, so a change's
# before and after stay side by side; TITLE is the heading the report
# starts with, "## TITLE (...)").
bench_write_section() {
	local title=$1 report=$2 out
	out="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/RESULTS.md"
	echo "$report"
	[ -f "$out" ] || printf '# Benchmark results\n\nFigures are ratios measured in one run on the same machine; absolute numbers vary with load.\n' > "$out"
	case $report in "## $title"*) ;; *) echo "bench_write_section: the report does not start with ## $title" >&2 ;; esac
	printf '\n%s\n' "$report" >> "$out"
}
