# tests/init/init.bash: what the legate-init tests share; sourced after
# tests/lib.sh.
EV=$T/events                      # where sigrec programs record what they saw
REC=$LEGATE_TOOLS/sigrec
INIT=$LEGATE_BIN/legate-init

# start_init ARGS...: legate-init as real PID 1 of a new PID namespace, its
# output in $T/init.log.  Sets NS (the unshare process) and INIT_PID
# (legate-init itself; 0 when it has already exited).
#
# The cleanup stops legate-init itself (SIGTERM, so it stops its programs),
# not unshare: unshare dies at once and its --kill-child SIGKILL leaves the
# namespace to be torn down after the test has ended, where the test runner
# finds it still running.  unshare stays a child of the test, so the
# cleanup's final wait returns only once the whole namespace is gone.
start_init() { start_init_env "" "$@"; }

# start_init_env "VAR=value ..." ARGS...: the same with environment
# variables (or an LD_PRELOAD) set for legate-init.
start_init_env() {
	local env=$1 i
	shift
	env $env unshare --pid --fork --mount-proc --kill-child "$INIT" "$@" > "$T/init.log" 2>&1 &
	NS=$!
	LG_PIDS+=($NS)
	LG_LOGS+=("$T/init.log")
	# legate-init may be done before we look (a failing start-up).
	lg_wait 5 "legate-init started" sh -c "pgrep -P $NS || ! kill -0 $NS"
	INIT_PID=$(pgrep -P $NS || echo 0)
	if [ "$INIT_PID" != 0 ]; then
		for i in "${!LG_PIDS[@]}"; do
			[ "${LG_PIDS[i]}" = "$NS" ] && LG_PIDS[i]=$INIT_PID
		done
	fi
}

# stop_init [SIGNAL]: sends legate-init SIGNAL (TERM) and waits until its
# namespace is gone; sets RC to legate-init's exit code.
stop_init() {
	kill "-${1:-TERM}" "$INIT_PID" 2>/dev/null || true
	RC=0
	wait "$NS" || RC=$?
}

# wait_init: waits for a legate-init that exits by itself; sets RC.
wait_init() {
	RC=0
	wait "$NS" || RC=$?
}

# ctl ARGS...: the client, on the socket the tests' configs name.
ctl() { "$INIT" ctl -s "$T/ctl.sock" "$@"; }
