# Data-driven checks of legate's configuration files: each folder in
# tests/config/cases holds a legate.hcl, the exit status legate gives it
# (status) and everything it prints on stderr (expected), with
# `legate -config legate.hcl -once -dry` run in that folder.  A bad file is
# refused with FILE:LINE and the key before anything starts (status 2); a
# consul-template key legate does not implement is a warning.
. "$LEGATE_ROOT/tests/lib.sh"

n=0
for dir in "$LEGATE_ROOT"/tests/config/cases/*/; do
	case=$(basename "$dir")
	cp -r "$dir" "$T/$case"
	want_status=$(cat "$T/$case/status")
	set +e
	(cd "$T/$case" && "$LEGATE_BIN/legate" -config legate.hcl -once -dry -consul-addr 127.0.0.1:1 \
		> /dev/null 2> "$T/$case/got")
	status=$?
	set -e
	[ "$status" = "$want_status" ] || lg_fail "$case: exit $status, want $want_status: $(cat "$T/$case/got")"
	lg_untime < "$T/$case/got" > "$T/$case/got.untimed" && mv "$T/$case/got.untimed" "$T/$case/got"
	diff -u "$T/$case/expected" "$T/$case/got" || lg_fail "$case: stderr differs"
	n=$((n + 1))
done
echo "# $n configuration files, each refused or warned about as expected"
