# bench/lib.sh - sourced by the benchmark scripts.

# bench_write_section TITLE REPORT: prints REPORT and puts it into
# bench/RESULTS.md in place of the section whose heading starts with
# "## TITLE", keeping every other section (a rerun replaces, never appends).
bench_write_section() {
	local title=$1 report=$2 out
	out="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/RESULTS.md"
	echo "$report"
	[ -f "$out" ] || printf '# Benchmark results\n\nFigures are ratios measured in one run on the same machine; absolute numbers vary with load.\n' > "$out"
	awk -v t="## $title" 'BEGIN {skip=0} index($0, t) == 1 {skip=1; next} /^## / && skip {skip=0} !skip {print}' \
		"$out" > "$out.tmp"
	printf '%s\n\n%s\n' "$(sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$out.tmp")" "$report" > "$out"
	rm -f "$out.tmp"
}
