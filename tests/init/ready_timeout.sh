#!/usr/bin/env bash
# ready_timeout: a program whose readiness never comes is killed and counts
# as a failed start: backoff, retries, then FATAL; its dependents never
# start.  One that gets ready in time is not touched.
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/init/init.bash"

cat > "$T/rt.conf" <<EOF
[supervisord]
nodaemon=true
ctl_socket=$T/ctl.sock

[program:mute]
command=sleep 1000
ready_fd=3
ready_timeout=1
startretries=1
on_fatal=keep

[program:after]
command=sh -c 'echo started >> $EV; exec sleep 1000'
depends_on=mute

[program:prompt]
command=sh -c 'sleep 0.3; touch $T/ready; exec sleep 1000'
ready_file=$T/ready
ready_timeout=5
EOF
start_init -c "$T/rt.conf"
lg_wait 15 "mute FATAL" sh -c "grep -q 'mute: failed 2 times in a row' $T/init.log"
[ "$(grep -c 'mute: not ready after 1s (ready_timeout); killing it' "$T/init.log")" = 2 ] ||
	lg_fail "expected two ready_timeout kills: $(grep mute "$T/init.log")"
ctl status > "$T/status" || true
grep -q '^mute  *FATAL' "$T/status" || lg_fail "status: $(cat "$T/status")"
grep -q '^prompt  *RUNNING' "$T/status" || lg_fail "prompt was not left running: $(cat "$T/status")"
grep -q '^after  *STOPPED' "$T/status" || lg_fail "the dependent moved: $(cat "$T/status")"
[ ! -e "$EV" ] || lg_fail "the dependent of a program never ready started"
# A bad value is refused with file:line.
printf '[program:x]\ncommand=true\nready_timeout=-1\n' > "$T/bad.conf"
if "$INIT" -t -c "$T/bad.conf" 2> "$T/err"; then lg_fail "ready_timeout=-1 accepted"; fi
grep -q 'bad.conf:3:' "$T/err" || lg_fail "no file:line: $(cat "$T/err")"
