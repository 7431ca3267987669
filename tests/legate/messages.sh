# What legate and legate-init say in the everyday cases that used to read
# wrong: -once and -dry summing up truthfully, legate -h naming every
# subcommand flag, an unknown ctl command refused as such (before any
# connection), a missing control socket with a hint about -s, and a port
# out of range called that.  No agent needed: the address is a closed port.
. "$LEGATE_ROOT/tests/lib.sh"

L=$LEGATE_BIN/legate
dead=127.0.0.1:$(lg_ports 1)
printf 'static\n' > "$T/t.mustache"

# -once whose command fails: no "in place", only the failure.
rc=0
"$L" -consul-addr "$dead" -once -template "$T/t.mustache:$T/a.out:false" 2> "$T/once-fail" || rc=$?
[ $rc = 1 ] || lg_fail "-once with a failing command: exit $rc"
grep -q 'every template is in place' "$T/once-fail" && lg_fail "-once claims success: $(cat "$T/once-fail")"
grep -q 'error: -once: not every template could be rendered and installed' "$T/once-fail" ||
	lg_fail "-once: no failure line: $(cat "$T/once-fail")"

# -once that works: said once, at the end.
"$L" -consul-addr "$dead" -once -template "$T/t.mustache:$T/b.out:true" 2> "$T/once-ok" ||
	lg_fail "-once: $(cat "$T/once-ok")"
[ "$(grep -c 'every template is in place' "$T/once-ok")" = 1 ] && tail -1 "$T/once-ok" | lg_grepq 'info: -once: every template is in place' ||
	lg_fail "-once: $(cat "$T/once-ok")"

# -dry installs nothing and says so.
"$L" -consul-addr "$dead" -once -dry -template "$T/t.mustache:$T/c.out" > "$T/dry-out" 2> "$T/dry" ||
	lg_fail "-dry: $(cat "$T/dry")"
[ ! -e "$T/c.out" ] || lg_fail "-dry installed $T/c.out"
grep -q 'in place' "$T/dry" && lg_fail "-dry claims an install: $(cat "$T/dry")"
grep -q 'info: -once -dry: every template rendered to stdout; nothing installed' "$T/dry" || lg_fail "-dry: $(cat "$T/dry")"
lg_bg dry "$L" -consul-addr "$dead" -dry -template "$T/t.mustache:$T/d.out"
lg_wait 10 "the -dry summary" grep -q 'info: -dry: every template rendered to stdout; nothing installed' "$T/dry.log"
grep -q 'in place' "$T/dry.log" && lg_fail "-dry claims an install: $(cat "$T/dry.log")"

# legate -h: every render flag, -strict included.
"$L" -h > "$T/help"
grep -q '^  legate render .*\[-strict\]' "$T/help" || lg_fail "legate -h: $(grep render "$T/help")"
grep -q '^  -log-format ' "$T/help" || lg_fail "legate -h has no -log-format"

# legate-init ctl: an unknown command is that, socket or not.
rc=0
"$LEGATE_BIN/legate-init" ctl -s "unix://$T/none.sock" frobnicate > "$T/ctl" 2>&1 || rc=$?
[ $rc = 1 ] && [ "$(cat "$T/ctl")" = "*** Unknown syntax: frobnicate" ] || lg_fail "ctl frobnicate: exit $rc: $(cat "$T/ctl")"
# A known command and no supervisor: supervisorctl's line, then the hint.
rc=0
"$LEGATE_BIN/legate-init" ctl -s "unix://$T/none.sock" status > "$T/ctl-out" 2> "$T/ctl-err" || rc=$?
[ $rc = 4 ] && grep -qx "unix://$T/none.sock no such file" "$T/ctl-out" || lg_fail "ctl status: exit $rc: $(cat "$T/ctl-out")"
grep -q -- '-s unix:///PATH' "$T/ctl-err" || lg_fail "no hint about -s: $(cat "$T/ctl-err")"

# A port out of range.
rc=0
"$L" ambassador --listen 99999 127.0.0.1:80 2> "$T/amb" || rc=$?
[ $rc = 2 ] && grep -q -- '--listen "99999": not a port (1 to 65535)' "$T/amb" || lg_fail "--listen 99999: exit $rc: $(cat "$T/amb")"
grep -q 'no port' "$T/amb" && lg_fail "--listen 99999: $(cat "$T/amb")"
rc=0
"$L" ambassador 127.0.0.1:70000 2> "$T/amb2" || rc=$?
[ $rc = 2 ] && grep -q 'port 70000 is not from 1 to 65535' "$T/amb2" || lg_fail "a backend on port 70000: exit $rc: $(cat "$T/amb2")"
echo "# 9 messages as they should read"
