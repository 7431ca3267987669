#!/usr/bin/env bash
# legate-init's one-program form as real PID 1: exit codes 0..255 pass
# through, death by signal N gives 128+N, signals are forwarded, and 100
# orphaned grandchildren are reaped.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"
INIT=$LEGATE_BIN/legate-init

pid1() { unshare --pid --fork --mount-proc "$INIT" "$@"; }
# bg_pid1 ARGS...: the same in the background; sets NS (unshare's pid, to
# wait for) and INIT_PID (legate-init's pid seen from here).
bg_pid1() {
	unshare --pid --fork --mount-proc --kill-child "$INIT" "$@" &
	NS=$!
	LG_PIDS+=($NS)
	# legate-init may be done before we look (a failing start-up).
	lg_wait 5 "legate-init started" sh -c "pgrep -P $NS || ! kill -0 $NS"
	INIT_PID=$(pgrep -P $NS || echo 0)
}

# Exit codes, every one of them, in one namespace each.
for code in $(seq 0 255); do
	rc=0
	pid1 -- sh -c "exit $code" || rc=$?
	[ "$rc" = "$code" ] || lg_fail "exit $code came out as $rc"
done

# Killed by signal N: 128+N.
for sig in 1 2 3 6 9 10 11 12 13 14 15; do
	rc=0
	pid1 -- sh -c "kill -$sig \$\$" 2>/dev/null || rc=$?
	[ "$rc" = $((128 + sig)) ] || lg_fail "signal $sig gave $rc, want $((128 + sig))"
done

# A command that cannot run: 127, with the reason on stderr.
rc=0
pid1 -- /nonexistent/cmd 2> "$T/err" || rc=$?
[ "$rc" = 127 ] || lg_fail "missing command gave $rc"
grep -q '^legate-init: error: cannot run /nonexistent/cmd: No such file' "$T/err" ||
	lg_fail "no error line: $(cat "$T/err")"

# Signals reach the command: it records USR1 and exits 7 on TERM.
bg_pid1 -- sh -c 'trap "echo USR1 >> '"$T"'/got" USR1; trap "echo TERM >> '"$T"'/got; exit 7" TERM;
	touch '"$T"'/up; while :; do sleep 0.05; done'
lg_wait 10 "command up" test -e "$T/up"
ns=$NS init=$INIT_PID
kill -USR1 "$init"
lg_wait 5 "USR1 forwarded" grep -q USR1 "$T/got"
kill -TERM "$init"
rc=0
wait $ns || rc=$?
[ "$rc" = 7 ] || lg_fail "after TERM the exit code is $rc, want 7"
grep -q TERM "$T/got" || lg_fail "TERM not forwarded"

# -g: signals go to the whole process group, so a grandchild gets TERM too.
bg_pid1 -g -- sh -c 'trap "wait; exit 3" TERM
	sh -c "trap \"echo inner >> '"$T"'/grp; exit 0\" TERM; touch '"$T"'/grp-up;
	while :; do sleep 0.05; done" &
	wait'
lg_wait 10 "group up" test -e "$T/grp-up"
kill -TERM "$INIT_PID"
rc=0
wait $NS || rc=$?
[ $rc = 3 ] || lg_fail "-g: exit code $rc, want 3"
grep -qx inner "$T/grp" || lg_fail "-g: the grandchild did not get TERM"

# 100 orphaned grandchildren: each subshell leaves a sleep behind and exits,
# so PID 1 inherits the sleeps; none may stay a zombie.
bg_pid1 -- sh -c 'i=0; while [ $i -lt 100 ]; do (sleep 0.2 &); i=$((i+1)); done;
	touch '"$T"'/forked; sleep 30'
lg_wait 10 "grandchildren forked" test -e "$T/forked"
ns=$NS init=$INIT_PID
sleep 0.5
count() { ps -o stat= --ppid "$init" | grep -c "$1" || true; }
lg_wait 5 "orphans gone" sh -c "[ \$(ps -o pid= --ppid $init | wc -l) -le 1 ]"
z=$(count Z)
[ "$z" = 0 ] || lg_fail "$z zombies left"
kill -TERM "$init"
rc=0
wait $ns || rc=$?
[ "$rc" = 143 ] || lg_fail "sleep killed by TERM gave $rc, want 143"
echo ok
