#!/usr/bin/env bash
# A container log reader that stops reading must not stall PID 1: with the
# stdout pipe full, legate-init still answers ctl, restarts and stops
# programs, and exits on SIGTERM; prefixed lines are dropped, not queued.
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
INIT=$LEGATE_BIN/legate-init

cat > "$T/stall.conf" <<EOF
[supervisord]
nodaemon=true
ctl_socket=$T/ctl.sock

[program:chatty]
command=sh -c 'while :; do echo chatty line 0123456789 0123456789 0123456789; done'
log_prefix=true
stopwaitsecs=1

[program:quiet]
command=sleep 1000
startsecs=0
EOF
mkfifo "$T/out.fifo"
# The reader: stopped once legate-init runs, so the pipe fills.
cat "$T/out.fifo" > /dev/null &
READER=$!
LG_PIDS+=($READER)
unshare --pid --fork --mount-proc --kill-child "$INIT" -c "$T/stall.conf" > "$T/out.fifo" 2> "$T/init.err" &
NS=$!
LG_PIDS+=($NS)
LG_LOGS+=("$T/init.err")
lg_wait 5 "the control socket" test -S "$T/ctl.sock"
INIT_PID=$(pgrep -P "$NS")
kill -STOP "$READER"
sleep 2   # the chatty program fills the 64 KiB pipe many times over

start=$(date +%s%N)
timeout 3 "$INIT" ctl -s "$T/ctl.sock" status > "$T/status" || lg_fail "ctl status did not answer with the output pipe full"
grep -q '^quiet  *RUNNING' "$T/status" || lg_fail "status: $(cat "$T/status")"
timeout 5 "$INIT" ctl -s "$T/ctl.sock" restart quiet >/dev/null || lg_fail "ctl restart did not complete with the output pipe full"
echo "# ctl answered in $(( ($(date +%s%N) - start) / 1000000 )) ms with the pipe full"

kill -TERM "$INIT_PID"
for _ in $(seq 50); do kill -0 "$NS" 2>/dev/null || break; sleep 0.1; done
kill -0 "$NS" 2>/dev/null && lg_fail "legate-init did not exit on SIGTERM with the pipe full"
kill -CONT "$READER"
true
