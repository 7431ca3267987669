#!/usr/bin/env bash
# legate-init ctl and a supervisorctl link: supervisorctl's commands, what
# they print and their exit codes (status 3 when a program is not running,
# 4 for an unknown name; start, stop, restart of one, several or all;
# signal SIG NAME...; pid; avail; tail; clear; shutdown), legate's reload
# NAME, the prompt, a missing socket; from outside and from a program
# inside the container.  Also: 100 orphans reaped under -c, and program
# output relayed with the "NAME | " prefix or into a file.
# legate-test: timeout=90
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/init/init.bash"

count() { grep -cx "$1" "$EV" || true; }

cat > "$T/ctl.conf" <<EOF
[supervisord]
nodaemon=true

[unix_http_server]
file=$T/ctl.sock

[supervisorctl]
serverurl=unix://$T/ctl.sock

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
command=sh -c '"$INIT" ctl reload web > /dev/null && echo reloaded >> $EV'
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
ln -s "$INIT" "$T/supervisorctl"
sctl() { "$T/supervisorctl" -c "$T/ctl.conf" "$@"; }

# expect WANT_RC WANT_OUTPUT CMD...: the output (stdout and stderr) and the
# exit code of one command.
expect() {
	local want_rc=$1 want=$2 rc=0
	shift 2
	"$@" > "$T/got" 2>&1 || rc=$?
	[ "$rc" = "$want_rc" ] || lg_fail "${*#$INIT}: exit $rc, want $want_rc: $(cat "$T/got")"
	[ "$(cat "$T/got")" = "$want" ] || lg_fail "${*#$INIT}: got \"$(cat "$T/got")\", want \"$want\""
}

# A program inside reaches the socket through LEGATE_INIT_SOCKET.
lg_wait 10 "reload from inside" grep -qx reloaded "$EV"
grep -qx "web USR2" "$EV" || lg_fail "the inside reload did not reach web"
lg_wait 10 "all up" sh -c "\"$INIT\" ctl -s '$T/ctl.sock' status filer | grep -q RUNNING"

# status: supervisorctl's columns; 3 when one is not running, 4 for a
# name it does not know.
rc=0
sctl status > "$T/status" || rc=$?
[ $rc = 3 ] || lg_fail "status with worker stopped: exit $rc, want 3"
pid=$(sctl pid web)
grep -qx "$(printf '%-33s%-10s' web RUNNING)pid $pid, uptime 0:00:0[0-9]" "$T/status" ||
	lg_fail "status: $(cat "$T/status")"
grep -qx "$(printf '%-33s%-10s' worker STOPPED)Not started" "$T/status" || lg_fail "status: $(cat "$T/status")"
grep -Eq '^reloader +EXITED +[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2} [AP]M$' "$T/status" ||
	lg_fail "status: $(cat "$T/status")"
[ "$(cut -c1-33 "$T/status" | sort | tr -d ' ' | tr '\n' ' ')" = "filer orphans reloader talker web worker " ] ||
	lg_fail "status is not in name order: $(cat "$T/status")"
expect 0 "$(grep '^web ' "$T/status" | sed 's/uptime .*//')uptime X" sh -c "\"$T/supervisorctl\" -c '$T/ctl.conf' status web | sed 's/uptime .*/uptime X/'"
expect 4 "nosuch: ERROR (no such process)" sctl status nosuch
rc=0
sctl status web nosuch > "$T/got" || rc=$?
[ $rc = 4 ] && head -1 "$T/got" | lg_grepq -x "nosuch: ERROR (no such process)" || lg_fail "status web nosuch: $rc $(cat "$T/got")"

# start and stop answer once done, one line per program.
expect 0 "worker: started" sctl start worker
[ "$(count 'worker start')" = 1 ] || lg_fail "worker did not start"
expect 0 "worker: ERROR (already started)" sctl start worker
expect 0 "worker: stopped" sctl stop worker
[ "$(count 'worker TERM')" = 1 ] || lg_fail "stop returned before worker got TERM"
expect 0 "worker: ERROR (not running)" sctl stop worker
expect 1 "nosuch: ERROR (no such process)" sctl start nosuch
expect 2 "Error: start requires a process name" sctl start
expect 1 "Error: stop requires a process name" sctl stop
expect 0 "$(printf 'web: ERROR (already started)\nworker: started')" sctl start web worker

# restart: TERM, then a new process, ready before the answer.
old=$(sctl pid web)
expect 0 "$(printf 'web: stopped\nweb: started')" sctl restart web
[ "$(count 'web TERM')" = 1 ] || lg_fail "restart did not stop web"
[ "$(count 'web start')" = 2 ] || lg_fail "restart did not start web again"
[ "$(sctl pid web)" != "$old" ] || lg_fail "same pid after restart"

# signal SIG NAME..., in supervisorctl's order.
expect 0 "web: signalled" sctl signal WINCH web
lg_wait 5 "signal" grep -qx 'web WINCH' "$EV"
expect 0 "$(printf 'web: signalled\nworker: signalled')" sctl signal SIGHUP web worker
lg_wait 5 "signals" sh -c "grep -qx 'web HUP' '$EV' && grep -qx 'worker HUP' '$EV'"
expect 1 "web: ERROR (bad signal name)" sctl signal FOO web
expect 1 "Error: signal requires a signal name and a process name" sctl signal HUP
expect 0 "$(printf 'worker: stopped')" sctl stop worker
expect 7 "worker: ERROR (not running)" sctl signal HUP worker

# pid: legate-init's, a program's, 0 and 7 for one not running.
expect 0 1 sctl pid
expect 7 0 sctl pid worker
expect 1 "No such process nosuch" sctl pid nosuch
[ "$(sctl pid all | wc -l)" = 6 ] || lg_fail "pid all: $(sctl pid all)"

# legate's reload NAME: the program's reload_signal; nothing to do for a
# program that does not run.
expect 0 "web: reloaded" sctl reload web
lg_wait 5 "reload" sh -c "[ \$(grep -cx 'web USR2' '$EV') = 2 ]"
expect 0 "worker: not running (STOPPED): nothing to reload" sctl reload worker

# avail: every configured program.
sctl avail > "$T/avail"
grep -qx "$(printf '%-32s %-9s %-9s %s' worker 'in use' manual 999:999)" "$T/avail" || lg_fail "avail: $(cat "$T/avail")"
[ "$(wc -l < "$T/avail")" = 6 ] || lg_fail "avail: $(cat "$T/avail")"

# tail: the log file, the last bytes, or followed; a program without one.
lg_wait 5 "file log" grep -qx err-to-file "$T/filer.log"
expect 0 "$(printf 'to-file\nerr-to-file\n')" sctl tail filer
expect 0 "$(printf 'file\n')" sctl tail -5 filer
expect 1 "talker: ERROR (no log file)" sctl tail talker
expect 1 "nosuch: ERROR (no such process name)" sctl tail nosuch stdout
expect 1 "Error: bad channel 'stdboth'" sctl tail filer stdboth
timeout 2 "$T/supervisorctl" -c "$T/ctl.conf" tail -f filer > "$T/follow" 2>&1 &
F=$!
sleep 0.5
echo appended >> "$T/filer.log"
wait $F || true
grep -qx appended "$T/follow" || lg_fail "tail -f: $(cat "$T/follow")"
expect 0 "filer: cleared" sctl clear filer
[ ! -s "$T/filer.log" ] || lg_fail "clear left $(wc -c < "$T/filer.log") bytes"

# Commands it does not know, and no supervisor at the socket.
expect 1 "*** Unknown syntax: frob" sctl frob
hint='(is legate-init running with this control socket? -s unix:///PATH or -c FILE names another; $LEGATE_INIT_SOCKET too)'
expect 7 "unix://$T/nothing.sock no such file
$hint" "$INIT" ctl -s "unix://$T/nothing.sock" stop web
expect 4 "unix://$T/nothing.sock no such file
$hint" "$INIT" ctl -s "$T/nothing.sock" status

# The prompt: one command a line, status first.
printf 'pid\nquit\n' | sctl > "$T/shell" || true
grep -q '^web  *RUNNING' "$T/shell" && [ "$(tail -1 "$T/shell")" = 1 ] || lg_fail "prompt: $(cat "$T/shell")"

# stop all and start all.
sctl stop all > "$T/got" || lg_fail "stop all: $(cat "$T/got")"
grep -qx 'web: stopped' "$T/got" && ! grep -q worker "$T/got" || lg_fail "stop all: $(cat "$T/got")"
rc=0
sctl status > /dev/null || rc=$?
[ $rc = 3 ] || lg_fail "status after stop all: $rc"
sctl start all > "$T/got" || lg_fail "start all: $(cat "$T/got")"
grep -qx 'worker: started' "$T/got" || lg_fail "start all: $(cat "$T/got")"

# Orphans: reaped, none left a zombie.
lg_wait 10 "orphans forked" test -e "$T/forked"
lg_wait 5 "orphans reaped" sh -c "[ \$(ps -o stat= --ppid $INIT_PID | grep -c Z) = 0 ] && [ \$(ps -o pid= --ppid $INIT_PID | wc -l) -le 6 ]"

# Output: prefixed lines, the file, and our own lines in one shape.
grep -qx 'talker | out-line' "$T/init.log" || lg_fail "no prefixed stdout line"
grep -qx 'talker | err-line' "$T/init.log" || lg_fail "no prefixed stderr line"
bad=$(grep -Ev '^(([0-9TZ:.-]+ )?legate-init: (error|warn|info): |talker \| )' "$T/init.log" || true)
[ -z "$bad" ] || lg_fail "lines of another shape: $bad"

# shutdown: the answer, then legate-init stops everything and exits 0.
expect 0 "Shut down" sctl shutdown
wait_init
[ "$RC" = 0 ] || lg_fail "exit code $RC after shutdown, want 0"
echo ok
