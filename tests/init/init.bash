# tests/init/init.bash: what the legate-init tests share; sourced after
# tests/lib.sh.
EV=$T/events                      # where sigrec programs record what they saw
REC=$LEGATE_TOOLS/sigrec
INIT=$LEGATE_BIN/legate-init

# start_init ARGS...: legate-init as real PID 1 of a new PID namespace, its
# output in $T/init.log.  Sets NS (the unshare process) and INIT_PID
# (legate-init itself; 0 when it has already exited).
start_init() {
	unshare --pid --fork --mount-proc --kill-child "$INIT" "$@" > "$T/init.log" 2>&1 &
	NS=$!
	LG_PIDS+=($NS)
	LG_LOGS+=("$T/init.log")
	# legate-init may be done before we look (a failing start-up).
	lg_wait 5 "legate-init started" sh -c "pgrep -P $NS || ! kill -0 $NS"
	INIT_PID=$(pgrep -P $NS || echo 0)
}

# ctl ARGS...: the client, on the socket the tests' configs name.
ctl() { "$INIT" ctl -s "$T/ctl.sock" "$@"; }
