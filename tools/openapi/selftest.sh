#!/usr/bin/env bash
# tools/openapi/selftest.sh - the build refuses what it must refuse. Each
# case is docs/api/_root.yaml plus one bad fragment; merge.mjs (or, for a
# description that merges, redocly lint with tools/openapi/redocly.yaml)
# must fail on it, with the expected message. Run by build.sh check.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# each case is the root alone plus one fragment: the modules' fragments
# (maybe mid-edit by someone) play no part. The root's shared components
# are then unused, so the lint runs with that one rule off.
api=${EMPORIUM_API_DIR:-$top/docs/api}
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$here/redocly.yaml" "$tmp/redocly.yaml"
printf '  no-unused-components: off\n' >>"$tmp/redocly.yaml"
passed=0 failed=0

op() { # op PATH_SUFFIX ID EXTRA: a minimal valid operation
	cat <<EOF
  /api/v1/selftest$1:
    get:
      operationId: $2
      summary: Self-test
      tags: [ops]
      security: []
      x-role: public
$3      responses:
        '200':
          description: OK
          content:
            application/json:
              schema: { type: object, properties: { a: { type: string } } }
EOF
}

# expect NAME WANT FRAGMENT: merging (then linting) must fail, printing WANT
expect() {
	local name=$1 want=$2 dir="$tmp/$1" out rc=0
	mkdir -p "$dir"
	cp "$api/_root.yaml" "$dir/"
	printf '%s\n' "$3" >"$dir/bad.yaml"
	out=$(EMPORIUM_API_DIR="$dir" node "$here/merge.mjs" "$dir/out.yaml" 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		out=$(node "$here/node_modules/@redocly/cli/bin/cli.js" lint --config "$tmp/redocly.yaml" \
			"$dir/out.yaml" 2>&1) || rc=$?
	fi
	if [ "$rc" != 0 ] && grep -qF -- "$want" <<<"$out"; then
		echo "  ok - refused: $name"; passed=$((passed + 1))
	else
		echo "  not ok - not refused as expected: $name (wanted \"$want\")"
		sed -e 's/^/    /' <<<"$out" | head -10
		failed=$((failed + 1))
	fi
}

# the control: a good fragment merges and lints clean, so each refusal
# below is for its own fault
mkdir -p "$tmp/good" && cp "$api/_root.yaml" "$tmp/good/"
printf 'paths:\n%s\n' "$(op /ok selftestOk '')" >"$tmp/good/good.yaml"
if EMPORIUM_API_DIR="$tmp/good" node "$here/merge.mjs" "$tmp/good/out.yaml" >"$tmp/good.log" 2>&1 &&
	node "$here/node_modules/@redocly/cli/bin/cli.js" lint --config "$tmp/redocly.yaml" \
		"$tmp/good/out.yaml" >>"$tmp/good.log" 2>&1; then
	echo "  ok - a good fragment merges and lints"; passed=$((passed + 1))
else
	echo "  not ok - a good fragment does not merge and lint"; sed -e 's/^/    /' "$tmp/good.log" | head
	failed=$((failed + 1))
fi
expect "a component defined twice, differently (the old cat merge kept the last)" \
	"components/responses/BadRequest is already defined differently" "paths:
$(op /a selftestA '')
components:
  responses:
    BadRequest: { description: other }"
expect "an operation described in two fragments" "GET /api/v1/health is already described" "paths:
  /api/v1/health:
    get:
      operationId: x
      summary: x
      security: []
      x-role: public
      responses: { '200': { description: x } }"
expect "an operation without x-role" "x-role must be one of" "paths:
$(op /b selftestB '' | grep -v x-role)"
expect "an operation without security" "declare security" "paths:
$(op /c selftestC '' | grep -v 'security:')"
expect "x-role that does not match security" "does not match its security" "paths:
$(op /d selftestD '' | sed 's/x-role: public/x-role: admin/')"
expect "optional sign-in on a customer route" "does not match its security" "paths:
$(op /d2 selftestD2 '' | sed 's/x-role: public/x-role: customer/; s/security: \[\]/security: [{}, { bearer: [] }]/')"
expect "a key other than paths/components" 'top-level key "info"' "info: { title: x }
paths: {}"
expect "a duplicate YAML key" "duplicated mapping key" "paths:
$(op /e selftestE '')
$(op /e selftestE2 '')"
expect "an undeclared path parameter" "path-parameters-defined" "paths:
$(op '/{id}' selftestF '')"
expect "a flow map split by an unquoted comma (a bogus key)" "struct" "paths:
$(op /g selftestG '' | sed 's/schema: { type: object, properties: { a: { type: string } } }/schema: { type: object, description: one, two }/')"
expect "no operationId" "operation-operationId" "paths:
$(op /h selftestH '' | grep -v operationId)"
expect "a 4xx that is not problem+json" "operation-4xx-problem-details-rfc7807" "paths:
$(op /i selftestI '' | sed "s/        '200':/        '404': { description: no, content: { application\/json: { schema: { type: object } } } }\n        '200':/")"
expect "an undeclared tag" "operation-tag-defined" "paths:
$(op /j selftestJ '' | sed 's/tags: \[ops\]/tags: [nosuchtag]/')"
echo "selftest: $passed passed, $failed failed"
[ "$failed" = 0 ]
