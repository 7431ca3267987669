#!/usr/bin/env bash
# tests/spec/spec.sh: runs the Mustache spec files in $LEGATE_SHARED/mustache-spec
# and compares the result of each case with tests/spec/baseline.txt, so that a
# case that starts failing (or passing) shows as a diff.  Under the release
# build the run is repeated under valgrind; the sanitizer build checks itself.
set -euo pipefail
: "${LEGATE_ROOT:?run through tests/run or make check}"
: "${LEGATE_BUILD:=$LEGATE_ROOT/build/release}"
: "${LEGATE_SHARED:=$(cd "$LEGATE_ROOT/.." && pwd)/shared}"
spec=$LEGATE_SHARED/mustache-spec
runner=$LEGATE_BUILD/tests/tools/mustache_spec
[ -d "$spec" ] || { echo "no Mustache spec in $spec"; exit 77; }

out=$(mktemp "${TMPDIR:-/tmp}/spec.XXXXXX")
trap 'rm -f "$out"' EXIT
"$runner" "$spec" > "$out"
if ! diff -u "$LEGATE_ROOT/tests/spec/baseline.txt" "$out"; then
	echo "spec results differ from tests/spec/baseline.txt; details:"
	"$runner" -v "$spec" | grep -A8 '^FAIL' || true
	exit 1
fi
echo "$(grep -c '^PASS' "$out")/$(wc -l < "$out") spec cases pass, as in the baseline"

if [ "${LEGATE_FLAVOR:-release}" = release ] && command -v valgrind > /dev/null; then
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		"$runner" "$spec" > /dev/null
	echo "valgrind: clean"
fi
