#!/usr/bin/env bash
# legate-init ctl: every command, from outside and from a program inside
# the container; 100 orphans reaped under -c; program output relayed with
# the "NAME | " prefix or into a file.
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/init/init.bash"

count() { grep -cx "$1" "$EV" || true; }

cat > "$T/ctl.conf" <<EOF
[supervisord]
nodaemon=true
ctl_socket=$T/ctl.sock

[program:web]
command=$REC $EV web -r 3
ready_fd=3
reload_signal=USR2
stopwaitsecs=2

[program:worker]
command=$REC $EV worker -r 3
ready_fd=3
autostart=false

[program:reloader]
command=sh -c '"$INIT" ctl reload web && echo reloaded >> $EV'
type=oneshot
depends_on=web

[program:orphans]
command=sh -c 'i=0; while [ \$i -lt 100 ]; do (sleep 0.2 &); i=\$((i+1)); done; touch $T/forked; exec sleep 100'

[program:talker]
command=sh -c 'echo out-line; echo err-line >&2; exec sleep 100'
log_prefix=true

[program:filer]
command=sh -c 'echo to-file; echo err-to-file >&2; exec sleep 100'
stdout_logfile=$T/filer.log
stdout_logfile_maxbytes=0
redirect_stderr=true
EOF
start_init -c "$T/ctl.conf"
[ "$INIT_PID" != 0 ] || lg_fail "legate-init exited: $(cat "$T/init.log")"

# A program inside reaches the socket through LEGATE_INIT_SOCKET.
lg_wait 10 "reload from inside" grep -qx reloaded "$EV"
grep -qx "web USR2" "$EV" || lg_fail "the inside reload did not reach web"

lg_wait 10 "all up" sh -c "\"$INIT\" ctl -s '$T/ctl.sock' status | grep -q '^filer  *RUNNING'"
ctl status > "$T/status"
grep -Eq '^web  +RUNNING +pid [0-9]+ +uptime 0:00:0[0-9] +restarts 0 +last -$' "$T/status" ||
	lg_fail "status: $(cat "$T/status")"
grep -Eq '^worker +STOPPED +pid - +uptime - +restarts 0 +last -$' "$T/status" ||
	lg_fail "status: $(cat "$T/status")"
grep -Eq '^reloader +EXITED .*last exit 0$' "$T/status" || lg_fail "status: $(cat "$T/status")"
[ "$(ctl status web | wc -l)" = 1 ] || lg_fail "status web is not one line"

# start and stop answer once done.
ctl start worker
ctl status worker | grep -q '^worker  *RUNNING' || lg_fail "start: $(ctl status worker)"
[ "$(count 'worker start')" = 1 ] || lg_fail "worker did not start"
ctl stop worker
[ "$(count 'worker TERM')" = 1 ] || lg_fail "stop returned before worker got TERM"
ctl status worker | grep -q '^worker  *STOPPED .*last exit 0$' || lg_fail "stop: $(ctl status worker)"

# restart: TERM, then a new process, ready before the answer.
old=$(ctl status web | awk '{print $4}')
ctl restart web
[ "$(count 'web TERM')" = 1 ] || lg_fail "restart did not stop web"
[ "$(count 'web start')" = 2 ] || lg_fail "restart did not start web again"
ctl status web > "$T/s"
grep -q '^web  *RUNNING .*restarts 1 ' "$T/s" || lg_fail "after restart: $(cat "$T/s")"
[ "$(awk '{print $4}' "$T/s")" != "$old" ] || lg_fail "same pid after restart"

ctl reload web
lg_wait 5 "reload" sh -c "[ \$(grep -cx 'web USR2' '$EV') = 2 ]"
ctl signal web WINCH
lg_wait 5 "signal" grep -qx 'web WINCH' "$EV"
ctl signal web SIGHUP
lg_wait 5 "signal" grep -qx 'web HUP' "$EV"

# Errors: exit 1 and one error line.
expect_error() {
	local want=$1 rc=0
	shift
	ctl "$@" > /dev/null 2> "$T/err" || rc=$?
	[ $rc = 1 ] || lg_fail "ctl $* exited $rc, want 1"
	grep -qx "legate-init: error: $want" "$T/err" || lg_fail "ctl $*: $(cat "$T/err")"
}
expect_error "no program named nosuch" start nosuch
expect_error "BOGUS is not a signal" signal web BOGUS
expect_error "worker is not running (STOPPED)" signal worker HUP
# A reload of a program with no process succeeds: it reads its
# configuration when it starts.
out=$(ctl reload worker) || lg_fail "ctl reload of a stopped program exited $?"
[ "$out" = "worker is not running (STOPPED): nothing to reload" ] || lg_fail "ctl reload worker: $out"
expect_error "unknown command frob" frob web
rc=0
"$INIT" ctl -s "$T/nothing.sock" status 2> /dev/null || rc=$?
[ $rc = 3 ] || lg_fail "ctl without a supervisor exited $rc, want 3"

# Orphans: reaped, none left a zombie.
lg_wait 10 "orphans forked" test -e "$T/forked"
lg_wait 5 "orphans reaped" sh -c "[ \$(ps -o stat= --ppid $INIT_PID | grep -c Z) = 0 ] && [ \$(ps -o pid= --ppid $INIT_PID | wc -l) -le 5 ]"

# Output: prefixed lines, the file, and our own lines in one shape.
grep -qx 'talker | out-line' "$T/init.log" || lg_fail "no prefixed stdout line"
grep -qx 'talker | err-line' "$T/init.log" || lg_fail "no prefixed stderr line"
lg_wait 5 "file log" grep -qx err-to-file "$T/filer.log"
grep -qx to-file "$T/filer.log" || lg_fail "stdout_logfile: $(cat "$T/filer.log")"
bad=$(grep -Ev '^(legate-init: (error|warn|info): |talker \| )' "$T/init.log" || true)
[ -z "$bad" ] || lg_fail "lines of another shape: $bad"

kill -INT "$INIT_PID"
rc=0
wait $NS || rc=$?
[ "$rc" = 130 ] || lg_fail "exit code $rc after SIGINT, want 130"
echo ok
