#!/usr/bin/env bash
# tests/spec/ext.sh: the template extensions beyond the spec (value tests,
# member iteration, positions, .length, filters, [ref] names), one folder
# per case in tests/spec/ext: template.mustache and data.json, rendered by
# "legate render" (config escaping), and either expected (the output) or
# error (text stderr must contain, with a non-zero exit).  Under the
# release build each case runs again under valgrind.
set -euo pipefail
: "${LEGATE_ROOT:?run through tests/run or make check}"
: "${LEGATE_BIN:=$LEGATE_ROOT/bin}"
legate=$LEGATE_BIN/legate
d=$(mktemp -d "${TMPDIR:-/tmp}/ext.XXXXXX")
trap 'rm -rf "$d"' EXIT
vg=()
if [ "${LEGATE_FLAVOR:-release}" = release ] && command -v valgrind > /dev/null; then
	vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
fi
n=0 failed=0
for c in "$LEGATE_ROOT"/tests/spec/ext/*/; do
	name=$(basename "$c")
	for run in plain ${vg:+valgrind}; do
		rc=0
		if [ "$run" = plain ]; then
			(cd "$c" && "$legate" render template.mustache data.json) > "$d/out" 2> "$d/err" || rc=$?
		else
			(cd "$c" && "${vg[@]}" "$legate" render template.mustache data.json) > "$d/out" 2> "$d/err" || rc=$?
		fi
		if [ -f "$c/error" ]; then
			if [ "$rc" -eq 0 ] || [ "$rc" -eq 99 ] || ! grep -qF -- "$(cat "$c/error")" "$d/err"; then
				echo "FAIL $name ($run): rc $rc, stderr: $(cat "$d/err"), want: $(cat "$c/error")"
				failed=$((failed + 1))
			fi
		elif [ "$rc" -ne 0 ] || ! diff -u "$c/expected" "$d/out"; then
			echo "FAIL $name ($run): rc $rc, stderr: $(cat "$d/err")"
			failed=$((failed + 1))
		fi
	done
	n=$((n + 1))
done
[ "$failed" -eq 0 ] || { echo "$failed failure(s) in $n cases"; exit 1; }
echo "$n extension cases pass${vg:+ (and under valgrind)}"
