#!/usr/bin/env bash
# The file read again while legate-init runs, as supervisorctl drives it:
# reread lists what changed, avail what is configured, update stops and
# removes what the file dropped, restarts what it changed, adds what it
# added and leaves the rest running; update NAME touches only NAME; remove
# and add; a broken file changes nothing; reload restarts everything.  A
# listener hears PROCESS_GROUP_ADDED and _REMOVED.
# legate-test: timeout=90
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/init/init.bash"

write_conf() {
	{
		printf '[unix_http_server]\nfile=%s\n\n' "$T/ctl.sock"
		printf '[eventlistener:watch]\ncommand=python3 -u %s %s\nevents=PROCESS_GROUP\nstartsecs=0\n\n' \
			"$LEGATE_ROOT/tests/init/listener.py" "$T/events.log"
		for p in "$@"; do
			printf '[program:%s]\n' "${p%%=*}"
			printf 'command=%s\nstartsecs=0\n' "${p#*=}"
			[ "${p%%=*}" = c ] && printf 'autostart=false\n'
			printf '\n'
		done
	} > "$T/up.conf"
}

expect() {
	local want_rc=$1 want=$2 rc=0
	shift 2
	ctl "$@" > "$T/got" 2>&1 || rc=$?
	[ "$rc" = "$want_rc" ] || lg_fail "ctl $*: exit $rc, want $want_rc: $(cat "$T/got")"
	[ "$(cat "$T/got")" = "$want" ] || lg_fail "ctl $*: got \"$(cat "$T/got")\", want \"$want\""
}

write_conf "a=sleep 100" "b=sleep 100" "c=sleep 100" "e=sleep 100"
start_init -c "$T/up.conf"
lg_wait 5 "a, b, e running" sh -c "[ \$(\"$INIT\" ctl -s '$T/ctl.sock' status | grep -c RUNNING) = 4 ]"
pid_b=$(ctl pid b)
pid_e=$(ctl pid e)
expect 0 "No config updates to processes" reread
expect 0 "" update

# a goes, b changes, c and e stay, d comes.
write_conf "b=sleep 200" "c=sleep 100" "d=sleep 100" "e=sleep 100"
expect 0 "$(printf 'a: disappeared\nb: changed\nd: available')" reread
ctl avail > "$T/avail"
grep -q '^d  *avail  *auto  *999:999$' "$T/avail" || lg_fail "avail after reread: $(cat "$T/avail")"
expect 1 "ERROR: no such group: nosuch" update nosuch
expect 0 "$(printf 'a: stopped\na: removed process group\nb: stopped\nb: updated process group\nd: added process group')" update
ctl status > "$T/status" || true
grep -q '^a ' "$T/status" && lg_fail "a still there: $(cat "$T/status")"
lg_wait 5 "d running" sh -c "\"$INIT\" ctl -s '$T/ctl.sock' status d | grep -q RUNNING"
[ "$(ctl pid b)" != "$pid_b" ] || lg_fail "b was not restarted"
pgrep -f 'sleep 200' > /dev/null || lg_fail "b runs the old command"
lg_wait 5 "the listener heard" grep -q 'eventname:PROCESS_GROUP_ADDED .* | groupname:d\\n$' "$T/events.log"
for ev in 'REMOVED .* | groupname:a' 'REMOVED .* | groupname:b' 'ADDED .* | groupname:b'; do
	grep -q "eventname:PROCESS_GROUP_$ev" "$T/events.log" || lg_fail "no $ev: $(cat "$T/events.log")"
done
[ "$(ctl pid e)" = "$pid_e" ] || lg_fail "e was restarted"
grep -q '^c  *STOPPED ' "$T/status" || lg_fail "c: $(cat "$T/status")"

# update NAME: only NAME.
write_conf "b=sleep 200" "c=sleep 100" "d=sleep 100" "e=sleep 300" "f=sleep 100"
expect 0 "e: stopped
e: updated process group" update e
ctl status f > /dev/null 2>&1 && lg_fail "f was added by update e"
expect 0 "f: added process group" update all

# remove a running program: refused; a stopped one: taken out, and add
# brings it back.
expect 1 "ERROR: process/group still running: d" remove d
expect 0 "d: stopped" stop d
expect 0 "d: removed process group" remove d
ctl avail | lg_grepq '^d  *avail ' || lg_fail "d not available after remove: $(ctl avail)"
expect 0 "d: added process group" add d
lg_wait 5 "d running again" sh -c "\"$INIT\" ctl -s '$T/ctl.sock' status d | grep -q RUNNING"
expect 0 "ERROR: process group already active" add d
expect 1 "ERROR: no such process/group: zz" add zz

# A broken file: an error naming it, and nothing changes.
line=$(( $(wc -l < "$T/up.conf") + 2 ))
printf '[program:x]\nautostart=maybe\n' >> "$T/up.conf"
expect 1 "ERROR: CANT_REREAD: $T/up.conf:$line: autostart: \"maybe\" is not a boolean (true or false)" reread
expect 1 "ERROR: CANT_REREAD: $T/up.conf:$line: autostart: \"maybe\" is not a boolean (true or false)" update
ctl status d | lg_grepq RUNNING || lg_fail "d stopped by a failed update"

# reload: everything stopped, the file read again, everything started.
write_conf "b=sleep 200" "d=sleep 100"
pid_d=$(ctl pid d)
expect 0 "Restarted supervisord" reload
lg_wait 10 "b and d running again" sh -c "[ \$(\"$INIT\" ctl -s '$T/ctl.sock' status | grep -c RUNNING) = 3 ]"
[ "$(ctl pid d)" != "$pid_d" ] || lg_fail "reload did not restart d"
[ "$(ctl status | wc -l)" = 3 ] || lg_fail "after reload: $(ctl status)"
stop_init TERM
[ "$RC" = 0 ] || lg_fail "exit $RC"
echo ok
