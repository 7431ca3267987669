#!/usr/bin/env bash
# legate-init allocates only while it loads its configuration: once the
# programs run, restarts, backoff, ctl commands (those that do not read
# the file again), SIGHUP, relayed and rotated output, events to a listener
# and reaping orphans make no malloc, calloc, realloc or free in PID 1.
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/init/init.bash"
SHIM=$LEGATE_TOOLS/malloc_count.so
[ "${LEGATE_FLAVOR:-release}" != asan ] || lg_skip "the sanitizers bring their own allocator"
[ -f "$SHIM" ] || lg_fail "no $SHIM (make test-bins)"

cat > "$T/noalloc.conf" <<EOF
[program:web]
command=$REC $EV web -r 3
ready_fd=3

[program:talker]
command=sh -c 'while :; do echo tick; echo tock >&2; sleep 0.1; done'
log_prefix=true
startsecs=0

[program:flaky]
command=sh -c 'sleep 0.2; exit 1'
startretries=1000

[program:orphans]
command=sh -c 'while :; do (sleep 0.05 &); sleep 0.05; done'
startsecs=0

[program:rotated]
command=sh -c 'while :; do echo 0123456789012345678901234567890123456789; sleep 0.01; done'
stdout_logfile=$T/rotated.log
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=2
startsecs=0

[eventlistener:watch]
command=python3 -u $LEGATE_ROOT/tests/init/listener.py $T/events.log
events=PROCESS_STATE,TICK_5
startsecs=0
EOF
start_init_env "LG_MALLOC_LOG=$T/mallocs LD_PRELOAD=$SHIM" -S "$T/ctl.sock" -c "$T/noalloc.conf"
lg_wait 10 "web running" sh -c "\"$INIT\" ctl -s '$T/ctl.sock' status web | grep -q RUNNING"
[ -s "$T/mallocs" ] || lg_fail "the shim saw no allocation at all: is it loaded?"
before=$(wc -l < "$T/mallocs")

for i in 1 2 3; do ctl status > /dev/null; done
ctl restart web
ctl stop web
ctl start web
ctl reload web
ctl signal USR1 web
ctl status nosuch > /dev/null && lg_fail "status nosuch succeeded"
ctl stop web > /dev/null
ctl status > /dev/null || true     # a stopped program's time of day
ctl start web worker > /dev/null || true
ctl pid all > /dev/null
ctl avail > /dev/null
ctl tail rotated > /dev/null
ctl clear rotated > /dev/null
kill -HUP "$INIT_PID"
sleep 1.5   # flaky backs off and restarts, orphans come and go, talker talks
lg_wait 5 "backoff" grep -q 'flaky: exited too quickly' "$T/init.log"
grep -q '^talker | tick' "$T/init.log" || lg_fail "no relayed output"
lg_wait 8 "a tick" grep -q 'eventname:TICK_5' "$T/events.log"
lg_wait 10 "rotated.log rotated" test -e "$T/rotated.log.1"

after=$(wc -l < "$T/mallocs")
if [ "$after" != "$before" ]; then
	sort "$T/mallocs" | uniq -c >&2
	lg_fail "PID 1 allocated $((after - before)) times in its steady state"
fi
stop_init TERM
echo ok
