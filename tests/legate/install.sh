# make install into a DESTDIR: stripped binaries that run, the supervisorctl
# link, templates, example configurations and manual pages that man renders
# without a warning; make uninstall takes every file away again.
# legate-test: timeout=300
. "$LEGATE_ROOT/tests/lib.sh"

D=$T/dest
flavor=
[ "${LEGATE_FLAVOR:-release}" = asan ] && flavor=SANITIZE=1
make -C "$LEGATE_ROOT" --no-print-directory -s install DESTDIR="$D" PREFIX=/usr $flavor > "$T/install.log" 2>&1 ||
	lg_fail "make install: $(tail -20 "$T/install.log")"
for f in bin/legate bin/legate-init share/legate/templates/haproxy.cfg.mustache \
	share/legate/examples/legate.hcl share/legate/examples/init.conf \
	share/man/man1/legate.1 share/man/man5/legate.hcl.5 share/man/man8/legate-init.8; do
	[ -s "$D/usr/$f" ] || lg_fail "not installed: /usr/$f"
done
[ "$(readlink "$D/usr/bin/supervisorctl")" = legate-init ] || lg_fail "supervisorctl link: $(ls -l "$D/usr/bin")"
for b in legate legate-init; do
	file -L "$D/usr/bin/$b" | lg_grepq ', stripped' || lg_fail "$b is not stripped: $(file "$D/usr/bin/$b")"
done
"$D/usr/bin/legate" -version | lg_grepq '^legate [0-9]' || lg_fail "installed legate -version"
"$D/usr/bin/supervisorctl" -h | lg_grepq '^usage: supervisorctl' || lg_fail "supervisorctl -h"
for m in man1/legate.1 man5/legate.hcl.5 man8/legate-init.8; do
	MANWIDTH=80 man --warnings -l "$D/usr/share/man/$m" > "$T/page" 2> "$T/warn" || lg_fail "man -l $m: $(cat "$T/warn")"
	[ ! -s "$T/warn" ] || lg_fail "man -l $m warns: $(cat "$T/warn")"
	grep -q '^NAME' "$T/page" && grep -q '^SEE ALSO' "$T/page" || lg_fail "man -l $m: $(head "$T/page")"
done
echo "# installed: $(find "$D" -type f | wc -l) files, legate $(stat -c %s "$D/usr/bin/legate") bytes stripped"
make -C "$LEGATE_ROOT" --no-print-directory -s uninstall DESTDIR="$D" PREFIX=/usr $flavor > "$T/uninstall.log" 2>&1 ||
	lg_fail "make uninstall: $(cat "$T/uninstall.log")"
left=$(find "$D" ! -type d)
[ -z "$left" ] || lg_fail "left after uninstall: $left"
