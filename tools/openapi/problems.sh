#!/usr/bin/env bash
# tools/openapi/problems.sh DIR - writes the problem type pages nginx serves
# at /problems/<slug> (DIR/<slug>.html, one per line of
# docs/problems/problems.tsv, and DIR/index.html) from the two tables in
# docs/problems/. A problem document's "type" is the URI of its page.
# tools/openapi/problems.sh --check: every type the API description
# allows has a line in the table, and no line is unused.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
table=$top/docs/problems/problems.tsv codes=$top/docs/problems/codes.tsv

if [ "${1:-}" = --check ]; then
	described=$(sed -n '/^    ProblemType:/,/^    [A-Za-z]*:$/p' "$top/docs/api/_root.yaml" |
		sed -n 's|^ *- /problems/\([a-z-]*\)$|\1|p' | sort)
	tabled=$(grep -v '^#' "$table" | cut -f1 | sort)
	[ -n "$described" ] || { echo "no ProblemType enum in docs/api/_root.yaml"; exit 1; }
	if [ "$described" != "$tabled" ]; then
		echo "problem types in docs/api/_root.yaml and docs/problems/problems.tsv differ:"
		diff <(echo "$described") <(echo "$tabled") || true
		exit 1
	fi
	echo "ok - $(echo "$tabled" | wc -l) problem types, each with its page"
	exit 0
fi

dir=${1:?usage: problems.sh DIR | --check}
mkdir -p "$dir"
page_head() { # TITLE
	printf '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
	printf '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
	printf '<title>%s - Emporium API problem types</title>\n' "$1"
	printf '<link rel="stylesheet" href="/problems/problems.css">\n</head>\n<body>\n<main>\n'
}
page_tail() { printf '</main>\n</body>\n</html>\n'; }

grep -v '^#' "$table" | while IFS=$'\t' read -r slug status title text; do
	{
		page_head "$status $title"
		printf '<p><a href="/problems/">Problem types</a></p>\n'
		printf '<h1><code>/problems/%s</code></h1>\n' "$slug"
		printf '<p>HTTP status <strong>%s %s</strong>.</p>\n<p>%s</p>\n' "$status" "$title" "$text"
		printf '<p>The body is <code>application/problem+json</code> (RFC 9457): <code>type</code>, <code>title</code>, <code>status</code>, <code>detail</code> (for people), <code>request_id</code>, and for field errors <code>errors: [{field, code, message}]</code>.</p>\n'
		if [ "$slug" = validation ] || [ "$slug" = unprocessable ]; then
			printf '<h2>Field error codes</h2>\n<dl>\n'
			grep -v '^#' "$codes" | while IFS=$'\t' read -r code meaning; do
				printf '<dt><code>%s</code></dt><dd>%s</dd>\n' "$code" "$meaning"
			done
			printf '</dl>\n'
		fi
		page_tail
	} > "$dir/$slug.html"
done
{
	page_head "Problem types"
	printf '<h1>Problem types</h1>\n<p>Every error the Emporium API answers is a problem document whose <code>type</code> is one of these.</p>\n<ul>\n'
	grep -v '^#' "$table" | while IFS=$'\t' read -r slug status title _; do
		printf '<li><a href="/problems/%s"><code>/problems/%s</code></a> - %s %s</li>\n' "$slug" "$slug" "$status" "$title"
	done
	printf '</ul>\n'
	page_tail
} > "$dir/index.html"
printf 'body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\ncode{background:#f3f3f3;padding:0 .2em}\ndt{margin-top:.6em}\n' > "$dir/problems.css"
echo "wrote $dir ($(grep -vc '^#' "$table") problem pages)"
