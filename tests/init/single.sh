#!/usr/bin/env bash
# legate-init's one-command form, as real PID 1 of a PID namespace and as
# an ordinary process, with the behaviours tini and dumb-init users rely
# on: exit codes (and -e remapping them to 0), every signal passed on,
# synchronous ones included, -r rewriting or dropping signals, who gets
# them (the command; its group with -g, TINI_KILL_PROCESS_GROUP or
# dumb-init's setsid mode; only the command with --single-child), TERM for
# the rest of the group when the command ends in setsid mode, the stop
# signals, -s and TINI_SUBREAPER reaping orphans (and a warning without),
# -w, -p's parent death signal, the working directory, the dispositions
# and mask the command inherits, and the names tini and dumb-init.
# legate-test: timeout=180
. "$LEGATE_ROOT/tests/lib.sh"
INIT=$LEGATE_BIN/legate-init
REC=$LEGATE_TOOLS/sigrec
EV=$T/events

# run MODE ARGS...: legate-init in the foreground, as PID 1 (MODE pid1) or
# not (plain).
run() {
	local mode=$1
	shift
	if [ "$mode" = pid1 ]; then
		unshare --pid --fork --mount-proc "$INIT" "$@"
	else
		"$INIT" "$@"
	fi
}

# bg MODE ARGS...: the same in the background; sets NS (the process to
# wait for) and INIT_PID (legate-init itself, as seen from here).  The
# cleanup signals legate-init itself and waits for its namespace.
bg() {
	local mode=$1 i
	shift
	if [ "$mode" = pid1 ]; then
		unshare --pid --fork --mount-proc --kill-child "$INIT" "$@" &
		NS=$!
		LG_PIDS+=($NS)
		lg_wait 5 "legate-init started" sh -c "pgrep -P $NS || ! kill -0 $NS"
		INIT_PID=$(pgrep -P $NS || echo 0)
		for i in "${!LG_PIDS[@]}"; do
			[ "${LG_PIDS[i]}" = "$NS" ] && LG_PIDS[i]=$INIT_PID
		done
	else
		"$INIT" "$@" &
		NS=$!
		INIT_PID=$NS
		LG_PIDS+=($NS)
	fi
}

finish() { RC=0; wait "$NS" || RC=$?; }

# recorded NAME: the signals NAME recorded, in order, on one line.
recorded() { { grep "^$1 " "$EV" || true; } | cut -d' ' -f2 | grep -v start | tr '\n' ' '; }

state() { awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# --- exit codes: every one as PID 1, a few otherwise; signals; -e ---------------
for code in $(seq 0 255); do
	rc=0
	run pid1 -- sh -c "exit $code" || rc=$?
	[ "$rc" = "$code" ] || lg_fail "pid1: exit $code came out as $rc"
done
for mode in pid1 plain; do
	for code in 0 3 255; do
		rc=0
		run $mode -- sh -c "exit $code" 2>/dev/null || rc=$?
		[ "$rc" = "$code" ] || lg_fail "$mode: exit $code came out as $rc"
	done
	for sig in 1 2 3 6 9 10 11 12 13 14 15; do
		rc=0
		run $mode -- sh -c "kill -$sig \$\$" 2>/dev/null || rc=$?
		[ "$rc" = $((128 + sig)) ] || lg_fail "$mode: signal $sig gave $rc, want $((128 + sig))"
	done
	# -e CODE reports CODE as 0 (also 128+N), and leaves the others alone.
	rc=0; run $mode -e 3 -- sh -c 'exit 3' 2>/dev/null || rc=$?
	[ $rc = 0 ] || lg_fail "$mode: -e 3 gave $rc"
	rc=0; run $mode -e 3 -e 4 sh -c 'exit 5' 2>/dev/null || rc=$?
	[ $rc = 5 ] || lg_fail "$mode: -e 3 -e 4 with exit 5 gave $rc"
	rc=0; run $mode -e 143 -- sh -c 'kill $$' 2>/dev/null || rc=$?
	[ $rc = 0 ] || lg_fail "$mode: -e 143 with a TERM death gave $rc"
	# A command that cannot run: 127, with the reason on stderr.
	rc=0
	run $mode -- /nonexistent/cmd 2> "$T/err" || rc=$?
	[ "$rc" = 127 ] || lg_fail "$mode: missing command gave $rc"
	grep -q '^[0-9TZ:.-]* \?legate-init: error: cannot run /nonexistent/cmd: No such file' "$T/err" ||
		lg_fail "$mode: no error line: $(cat "$T/err")"
done

# --- every signal is passed on, synchronous ones too; legate-init survives ------
for mode in pid1 plain; do
	: > "$EV"
	bg $mode -- "$REC" "$EV" cmd
	lg_wait 5 "$mode: command up" grep -qx 'cmd start' "$EV"
	for sig in USR1 HUP WINCH URG SEGV ABRT BUS FPE ILL TRAP SYS; do
		kill -$sig "$INIT_PID"
		lg_wait 5 "$mode: SIG$sig passed on" grep -qx "cmd $sig" "$EV"
	done
	kill -TERM "$INIT_PID"
	finish
	[ "$RC" = 0 ] || lg_fail "$mode: exit $RC after TERM, want the command's 0"
	want="USR1 HUP WINCH URG SEGV ABRT BUS FPE ILL TRAP SYS TERM "
	[ "$(recorded cmd)" = "$want" ] || lg_fail "$mode: the command got \"$(recorded cmd)\", want \"$want\""
done

# --- -r S:R rewrites, S:0 drops --------------------------------------------------
for mode in pid1 plain; do
	: > "$EV"
	bg $mode -r 15:3 --rewrite 10:0 -- "$REC" "$EV" cmd
	lg_wait 5 "$mode: command up" grep -qx 'cmd start' "$EV"
	kill -USR1 "$INIT_PID"
	kill -USR2 "$INIT_PID"
	lg_wait 5 "$mode: USR2" grep -qx 'cmd USR2' "$EV"
	kill -TERM "$INIT_PID"
	finish
	[ "$(recorded cmd)" = "USR2 QUIT " ] || lg_fail "$mode: -r: the command got \"$(recorded cmd)\""
done
rc=0
"$INIT" -r 15:32 true 2> "$T/err" || rc=$?
[ $rc = 1 ] && grep -q '^[0-9TZ:.-]* \?legate-init: error: -r: "15:32"' "$T/err" || lg_fail "-r 15:32: exit $rc: $(cat "$T/err")"

# --- who gets a signal: the command; its group; only the command again ----------
# The command: a shell that leaves a grandchild in its group, then becomes
# sigrec.  check MODE "FLAGS" ENV GRANDCHILD_GETS_USR1 GRANDCHILD_GETS_TERM_AT_END
check_group() {
	local mode=$1 flags=$2 env=$3 want_usr1=$4 want_term=$5 gc
	: > "$EV"
	rm -f "$T/gc.pid"
	env $env "$INIT" --version > /dev/null
	if [ "$mode" = pid1 ]; then
		env $env unshare --pid --fork --mount-proc --kill-child "$INIT" $flags -- \
			sh -c "\"$REC\" \"$EV\" gc -x KILL & echo \$! > '$T/gc.pid'; exec \"$REC\" \"$EV\" cmd" &
		NS=$!
		LG_PIDS+=($NS)
		lg_wait 5 "legate-init" pgrep -P $NS
		INIT_PID=$(pgrep -P $NS)
	else
		env $env "$INIT" $flags -- \
			sh -c "\"$REC\" \"$EV\" gc -x KILL & echo \$! > '$T/gc.pid'; exec \"$REC\" \"$EV\" cmd" &
		NS=$!
		INIT_PID=$NS
		LG_PIDS+=($NS)
	fi
	lg_wait 5 "both up" sh -c "grep -qx 'cmd start' '$EV' && grep -qx 'gc start' '$EV'"
	gc=$(cat "$T/gc.pid")
	kill -USR1 "$INIT_PID"
	lg_wait 5 "USR1" grep -qx 'cmd USR1' "$EV"
	sleep 0.3
	if [ "$want_usr1" = yes ]; then
		grep -qx 'gc USR1' "$EV" || lg_fail "$mode $flags $env: the grandchild did not get USR1"
	else
		grep -qx 'gc USR1' "$EV" && lg_fail "$mode $flags $env: the grandchild got USR1"
	fi
	kill -TERM "$INIT_PID"
	finish
	if [ "$mode" = plain ]; then
		if [ "$want_term" = yes ]; then
			lg_wait 5 "TERM for the group" grep -qx 'gc TERM' "$EV"
		else
			sleep 0.3
			grep -qx 'gc TERM' "$EV" && lg_fail "$mode $flags $env: the grandchild got TERM at the end"
		fi
		kill -KILL "$gc" 2>/dev/null || true
	fi
}
for mode in pid1 plain; do
	check_group $mode "" "" no no
	check_group $mode "-g" "" yes yes
	check_group $mode "" "TINI_KILL_PROCESS_GROUP=1" yes yes
	check_group $mode "" "DUMB_INIT_SETSID=1" yes yes
	check_group $mode "--single-child" "DUMB_INIT_SETSID=1" no no
done

# --- the stop signals: passed on (setsid mode: as STOP), then legate-init stops --
: > "$EV"
bg plain -- "$REC" "$EV" cmd
lg_wait 5 "command up" grep -qx 'cmd start' "$EV"
kill -TSTP "$INIT_PID"
lg_wait 5 "TSTP passed on" grep -qx 'cmd TSTP' "$EV"
lg_wait 5 "legate-init stopped" sh -c "[ \"\$(awk '/^State:/ {print \$2}' /proc/$INIT_PID/status)\" = T ]"
kill -CONT "$INIT_PID"
lg_wait 5 "CONT passed on" grep -qx 'cmd CONT' "$EV"
kill -TERM "$INIT_PID"
finish
: > "$EV"
DUMB_INIT_SETSID=1 bg plain -- "$REC" "$EV" cmd
lg_wait 5 "command up" grep -qx 'cmd start' "$EV"
cmd=$(pgrep -P "$INIT_PID")
kill -TTIN "$INIT_PID"
lg_wait 5 "both stopped" sh -c "[ \"\$(awk '/^State:/ {print \$2}' /proc/$INIT_PID/status)\$(awk '/^State:/ {print \$2}' /proc/$cmd/status)\" = TT ]"
kill -CONT "$INIT_PID"
lg_wait 5 "CONT passed on" grep -qx 'cmd CONT' "$EV"
[ "$(state "$INIT_PID")" != T ] || lg_fail "legate-init still stopped after CONT"
kill -TERM "$INIT_PID"
finish

# --- -s and TINI_SUBREAPER: orphans are reaped; -w says so; a warning without --
orphans='i=0; while [ $i -lt 20 ]; do (sleep 0.2 &); i=$((i+1)); done; sleep 1'
for how in "-s" "TINI_SUBREAPER="; do
	rc=0
	if [ "$how" = -s ]; then
		"$INIT" -s -w -- sh -c "$orphans" 2> "$T/err" || rc=$?
	else
		TINI_SUBREAPER= "$INIT" -w -- sh -c "$orphans" 2> "$T/err" || rc=$?
	fi
	[ $rc = 0 ] || lg_fail "$how: exit $rc"
	[ "$(grep -c 'Reaped zombie process with pid=' "$T/err")" = 20 ] ||
		lg_fail "$how -w: $(grep -c 'Reaped zombie' "$T/err") orphans reaped, want 20: $(head -3 "$T/err")"
	grep -q "zombie reaping won't work" "$T/err" && lg_fail "$how: warned about reaping"
done
rc=0
"$INIT" -- true 2> "$T/err" || rc=$?
grep -q "^[0-9TZ:.-]* \?legate-init: warn: not PID 1 and not a child subreaper: .*zombie reaping won't work" "$T/err" ||
	lg_fail "no warning without a subreaper: $(cat "$T/err")"
TINI_VERBOSITY=0 "$INIT" -- true 2> "$T/err"
[ ! -s "$T/err" ] || lg_fail "TINI_VERBOSITY=0 still warns: $(cat "$T/err")"
run pid1 -- true 2> "$T/err"
[ ! -s "$T/err" ] || lg_fail "as PID 1: $(cat "$T/err")"

# 100 orphaned grandchildren as PID 1: none may stay a zombie.
bg pid1 -- sh -c 'i=0; while [ $i -lt 100 ]; do (sleep 0.2 &); i=$((i+1)); done;
	touch '"$T"'/forked; sleep 30'
lg_wait 10 "grandchildren forked" test -e "$T/forked"
lg_wait 5 "orphans gone" sh -c "[ \$(ps -o pid= --ppid $INIT_PID | wc -l) -le 1 ]"
[ "$(ps -o stat= --ppid "$INIT_PID" | grep -c Z || true)" = 0 ] || lg_fail "zombies left"
kill -TERM "$INIT_PID"
finish
[ "$RC" = 143 ] || lg_fail "sleep killed by TERM gave $RC, want 143"

# --- -p SIG: the parent's death becomes SIG for the command ----------------------
: > "$EV"
sh -c "\"$INIT\" -p USR1 -- \"$REC\" \"$EV\" cmd & echo \$! > '$T/init.pid'; exec sleep 100" &
PARENT=$!
LG_PIDS+=($PARENT)
lg_wait 5 "command up" grep -qx 'cmd start' "$EV"
INIT_PID=$(cat "$T/init.pid")
LG_PIDS+=($INIT_PID)
kill -KILL "$PARENT"
lg_wait 5 "USR1 at the parent's death" grep -qx 'cmd USR1' "$EV"
kill -TERM "$INIT_PID"
lg_wait 5 "legate-init gone" sh -c "! kill -0 $INIT_PID"
: > "$EV"
unshare --pid --fork --mount-proc "$INIT" -p SIGHUP -- "$REC" "$EV" cmd &
NS=$!
LG_PIDS+=($NS)
lg_wait 5 "command up" grep -qx 'cmd start' "$EV"
INIT_PID=$(pgrep -P $NS)
LG_PIDS+=($INIT_PID)
kill -KILL "$NS"
lg_wait 5 "HUP at the parent's death (PID 1)" grep -qx 'cmd HUP' "$EV"
kill -TERM "$INIT_PID"
lg_wait 5 "legate-init gone" sh -c "! kill -0 $INIT_PID"

# --- the working directory: the command's, not legate-init's ---------------------
mkdir "$T/work"
for mode in pid1 plain; do
	out=$(cd "$T/work" && run $mode -- sh -c 'readlink /proc/$PPID/cwd; pwd' 2>/dev/null)
	[ "$out" = "$(printf '/\n%s' "$T/work")" ] || lg_fail "$mode: directories \"$out\""
done

# --- dispositions and mask: the command gets what legate-init was given --------
for mode in pid1 plain; do
	python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
os.execvp(sys.argv[1], sys.argv[1:])' \
		$([ $mode = pid1 ] && echo unshare --pid --fork --mount-proc) "$INIT" -- \
		grep -E '^Sig(Ign|Blk):' /proc/self/status > "$T/sigs" 2>/dev/null
	ign=$(awk '/^SigIgn/ {print $2}' "$T/sigs")
	blk=$(awk '/^SigBlk/ {print $2}' "$T/sigs")
	(( (0x$ign >> 1) & 1 )) || lg_fail "$mode: SIGINT is no longer ignored: $(cat "$T/sigs")"
	(( (0x$blk >> 9) & 1 )) && lg_fail "$mode: SIGUSR1 came blocked: $(cat "$T/sigs")"
	# (unshare sets its own mask for its child: the blocked TERM is
	# checked where legate-init gets it directly.)
	[ $mode = pid1 ] || (( (0x$blk >> 14) & 1 )) || lg_fail "$mode: SIGTERM is no longer blocked: $(cat "$T/sigs")"
done

# --- the command line: --version, --help, usage errors; the tini and dumb-init names
"$INIT" --version | lg_grepq '^legate-init [0-9]' || lg_fail "--version"
"$INIT" --help | lg_grepq 'rewrite' || lg_fail "--help"
rc=0; "$INIT" 2> /dev/null || rc=$?
[ $rc = 1 ] || lg_fail "no arguments: exit $rc, want 1"
rc=0; "$INIT" --yolo true 2> /dev/null || rc=$?
[ $rc = 1 ] || lg_fail "an unknown option: exit $rc, want 1"
ln -s "$INIT" "$T/tini"
ln -s "$INIT" "$T/dumb-init"
rc=0; "$T/tini" -e 7 -- sh -c 'exit 7' 2>/dev/null || rc=$?
[ $rc = 0 ] || lg_fail "as tini: -e 7 gave $rc"
# As dumb-init: setsid mode by default, -c is --single-child.
: > "$EV"
"$T/dumb-init" sh -c "\"$REC\" \"$EV\" gc -x KILL & echo \$! > '$T/gc.pid'; exec \"$REC\" \"$EV\" cmd" &
NS=$!
INIT_PID=$NS
LG_PIDS+=($NS)
lg_wait 5 "both up" sh -c "grep -qx 'cmd start' '$EV' && grep -qx 'gc start' '$EV'"
kill -USR1 "$INIT_PID"
lg_wait 5 "the group got USR1" sh -c "grep -qx 'cmd USR1' '$EV' && grep -qx 'gc USR1' '$EV'"
kill -TERM "$INIT_PID"
finish
lg_wait 5 "TERM for the group" grep -qx 'gc TERM' "$EV"
kill -KILL "$(cat "$T/gc.pid")" 2>/dev/null || true
rc=0; "$T/dumb-init" -c sh -c 'exit 4' || rc=$?
[ $rc = 4 ] || lg_fail "as dumb-init, -c: exit $rc"
echo ok
