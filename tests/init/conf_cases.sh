#!/usr/bin/env bash
# The supervisord.conf cases in tests/init/conf-cases/: each folder holds a
# supervisord.conf (and any file it includes) and "expect", the verdict and
# messages of `legate-init -t` on it: a first line "exit N", then every line
# it prints, with the case's folder written as ".".  `make check SANITIZE=1`
# runs the same cases against the ASan build, where a memory error or a
# leak changes the output and fails the case.
#
#   LEGATE_UPDATE_CASES=1 make check TESTS=init/conf_cases   rewrites the
#   expect files from what legate-init says now (review the diff).
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"
INIT=$LEGATE_BIN/legate-init
CASES=$LEGATE_ROOT/tests/init/conf-cases

n=0 failed=0
for dir in "$CASES"/*/; do
	dir=${dir%/}
	name=${dir##*/}
	n=$((n + 1))
	rc=0
	(cd "$dir" && exec "$INIT" -t -c supervisord.conf) > "$T/out" 2>&1 || rc=$?
	{ echo "exit $rc"; lg_untime < "$T/out" | sed "s|$dir|.|g"; } > "$T/got"
	if [ "${LEGATE_UPDATE_CASES:-}" = 1 ]; then
		cp "$T/got" "$dir/expect"
		continue
	fi
	if ! diff -u "$dir/expect" "$T/got" > "$T/diff" 2>&1; then
		echo "case $name: legate-init -t says otherwise:"
		cat "$T/diff"
		failed=$((failed + 1))
		continue
	fi
done
[ $n -gt 0 ] || lg_fail "no case in $CASES"
[ $failed = 0 ] || lg_fail "$failed of $n cases failed"
echo "$n cases"
