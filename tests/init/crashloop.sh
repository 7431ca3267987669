#!/usr/bin/env bash
# A crash loop: restarts come after growing delays, then FATAL; with
# on_fatal=exit legate-init stops everything and exits with the program's
# code, by default (on_fatal=keep, as supervisord) the rest keeps running.
# Also: autorestart=unexpected restarts only on an unexpected exit code.
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/init/init.bash"


# --- on_fatal=exit -----------------------------------------------------------
cat > "$T/exit.conf" <<EOF
[program:other]
command=$REC $EV other -r 3
priority=1
ready_fd=3

[program:crash]
command=sh -c 'echo crash-run >> $EV; exit 3'
priority=2
startretries=3
on_fatal=exit
EOF
t0=$(date +%s%N)
start_init -S "$T/ctl.sock" -c "$T/exit.conf"
wait_init
rc=$RC
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" = 3 ] || lg_fail "exit code $rc, want 3 (the crashing program's code)"
delays=$(sed -n 's/.*crash: exited too quickly (exit 3); retry [0-9] of 3 in \([0-9.]*\)s/\1/p' "$T/init.log" | tr '\n' ' ')
[ "$delays" = "0.5 1.0 2.0 " ] || lg_fail "restart delays \"$delays\", want 0.5 1.0 2.0"
grep -q 'crash: failed 4 times in a row within startsecs (last: exit 3); giving up (FATAL)' "$T/init.log" ||
	lg_fail "no FATAL line"
grep -q 'crash: FATAL; stopping everything (on_fatal=exit)' "$T/init.log" || lg_fail "no on_fatal line"
[ "$(grep -c crash-run "$EV")" = 4 ] || lg_fail "crash ran $(grep -c crash-run "$EV") times, want 4"
grep -qx 'other TERM' "$EV" || lg_fail "other was not stopped with TERM"
[ $ms -ge 3400 ] || lg_fail "the loop took ${ms}ms, shorter than its backoff delays"

# A program killed by a signal: FATAL at once (startretries=0), exit 128+9.
printf '[program:killed]\ncommand=sh -c "kill -9 \\$\\$"\nstartretries=0\non_fatal=exit\n' > "$T/killed.conf"
start_init -S "$T/ctl.sock" -c "$T/killed.conf"
wait_init
rc=$RC
[ "$rc" = 137 ] || lg_fail "exit code $rc for a program killed by SIGKILL, want 137: $(cat "$T/init.log")"
grep -q 'killed: failed 1 times in a row within startsecs (last: signal KILL)' "$T/init.log" ||
	lg_fail "no FATAL line naming the signal"

# --- on_fatal=keep, the default ----------------------------------------------
: > "$EV"
cat > "$T/keep.conf" <<EOF
[program:other]
command=$REC $EV other
startsecs=0

[program:crash]
command=sh -c 'exit 4'
startretries=1

[program:once]
command=sh -c 'sleep 1.1; echo once-run >> $EV; exit 0'
startsecs=0
autorestart=unexpected

[program:again]
command=sh -c 'sleep 1.1; echo again-run >> $EV; exit 5'
startsecs=0
exitcodes=0,2
startretries=0
on_fatal=keep
EOF
start_init -S "$T/ctl.sock" -c "$T/keep.conf"
lg_wait 10 "crash FATAL" grep -q 'crash: FATAL; the other programs keep running' "$T/init.log"
lg_wait 10 "again restarted" sh -c "[ \$(grep -c again-run '$EV') -ge 2 ]"
ctl status > "$T/status" || true
grep -q '^crash  *FATAL  *Exited too quickly (process log may have details)$' "$T/status" ||
	lg_fail "status: $(cat "$T/status")"
grep -q '^other  *RUNNING ' "$T/status" || lg_fail "other not running: $(cat "$T/status")"
grep -Eq '^once  *EXITED  *[A-Z][a-z][a-z] [0-9][0-9] [0-9][0-9]:[0-9][0-9] [AP]M$' "$T/status" ||
	lg_fail "once: $(cat "$T/status")"
[ "$(grep -c once-run "$EV")" = 1 ] || lg_fail "once (exit 0 expected) was restarted"
lg_alive "$INIT_PID" || lg_fail "legate-init exited despite on_fatal=keep"
stop_init TERM
[ "$RC" = 0 ] || lg_fail "exit code $RC after SIGTERM, want 0 (as supervisord)"
echo ok
