# tests/ambassador/amb.bash: helpers shared by the ambassador tests (sourced
# after tests/lib.sh).  Backends are nginx servers that answer their own
# name, reached over HTTP through the ambassador's TCP proxy.

# amb_start ARGS...: runs "legate ambassador --run-dir $T/run ARGS" in the
# background (log: ambassador.log); sets AMB_PID.
amb_start() {
	lg_bg ambassador "$LEGATE_BIN/legate" ambassador --run-dir "$T/run" "$@"
	AMB_PID=$LG_LAST_PID
}

# amb_get PORT: the body answered through 127.0.0.1:PORT (curl's exit code
# when there is none).
amb_get() { curl -s -m 2 "http://127.0.0.1:$1/" || true; }

amb_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# The change-to-traffic times the helpers below print are figures (tens to
# hundreds of ms on an idle machine; README); what they enforce is a bound
# that a real fault (a change seen only when a 60 s long-poll ends) exceeds
# and a loaded shared machine does not: AMB_LIMIT_MS, and AMB_GIVEUP_MS for
# the polling itself.
AMB_LIMIT_MS=${AMB_LIMIT_MS:-5000}
AMB_GIVEUP_MS=${AMB_GIVEUP_MS:-15000}

# amb_expect PORT NAME: waits (10 s at most) until PORT answers NAME.
amb_expect() {
	lg_wait 10 "port $1 to answer $2" sh -c "[ \"\$(curl -s -m 2 http://127.0.0.1:$1/)\" = '$2' ]"
}

# amb_switched PORT NAME T0_MS: polls until a new connection to PORT gets
# NAME; prints the milliseconds since T0_MS and fails past AMB_LIMIT_MS.
amb_switched() {
	local port=$1 want=$2 t0=$3 now
	while :; do
		if [ "$(amb_get "$port")" = "$want" ]; then
			now=$(amb_now_ms)
			break
		fi
		now=$(amb_now_ms)
		[ $((now - t0)) -le $AMB_GIVEUP_MS ] || lg_fail "port $port did not reach $want within $AMB_GIVEUP_MS ms"
		sleep 0.01
	done
	echo "switched to $want in $((now - t0)) ms"
	[ $((now - t0)) -le $AMB_LIMIT_MS ] || lg_fail "port $port took $((now - t0)) ms to reach $want (limit $AMB_LIMIT_MS)"
}

# amb_refusing PORT T0_MS: polls until a connection to PORT is refused
# (curl exit 7); prints the time since T0_MS (at most AMB_LIMIT_MS), then checks
# that a refusal comes at once (under 200 ms by curl's clock), not after a
# timeout.
amb_refusing() {
	local port=$1 t0=$2 now rc a b
	while :; do
		rc=0
		curl -s -m 2 -o /dev/null "http://127.0.0.1:$port/" || rc=$?
		now=$(amb_now_ms)
		[ $rc = 7 ] && break
		[ $((now - t0)) -le $AMB_GIVEUP_MS ] || lg_fail "port $port still accepts $AMB_GIVEUP_MS ms after its last backend left (curl $rc)"
		sleep 0.01
	done
	echo "refusing in $((now - t0)) ms"
	[ $((now - t0)) -le $AMB_LIMIT_MS ] || lg_fail "port $port took $((now - t0)) ms to refuse (limit $AMB_LIMIT_MS)"
	# curl's own clock, so a busy machine's process start-up does not count;
	# under 800 ms tells a refusal from a dropped SYN (retried after 1 s).
	rc=0
	a=$(curl -s -m 5 -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/") || rc=$?
	[ $rc = 7 ] || lg_fail "port $port: curl exit $rc, expected 7 (connection refused)"
	b=$(awk -v t="$a" 'BEGIN { printf "%d", t * 1000 }')
	[ "$b" -lt 800 ] || lg_fail "port $port: refusal took $b ms"
	echo "refused (curl exit 7) after ${a} s"
}

# amb_alive: the ambassador and its HAProxy still run.
amb_alive() {
	lg_alive "$AMB_PID" || lg_fail "legate ambassador exited"
	pgrep -P "$AMB_PID" -x haproxy >/dev/null || lg_fail "haproxy is not running under the ambassador"
}

# amb_stop: SIGTERM; the ambassador stops HAProxy and exits 0 quickly.
amb_stop() {
	local hp rc=0 i
	hp=$(pgrep -P "$AMB_PID" -x haproxy || true)
	kill -TERM "$AMB_PID"
	for ((i = 0; i < 50; i++)); do lg_alive "$AMB_PID" || break; sleep 0.1; done
	wait "$AMB_PID" || rc=$?
	[ $rc = 0 ] || lg_fail "legate ambassador exited $rc after SIGTERM"
	[ -z "$hp" ] || ! lg_alive "$hp" || lg_fail "haproxy $hp still runs after the ambassador stopped"
}

# amb_both PORT NAME1 NAME2: waits (5 s at most) until new connections to
# PORT have reached both backends (round robin over the two).
amb_both() {
	local port=$1 seen="" i
	for ((i = 0; i < 100; i++)); do
		seen="$seen $(amb_get "$port")"
		case $seen in *" $2"*) case $seen in *" $3"*) echo "port $port reaches $2 and $3"; return 0 ;; esac ;; esac
		sleep 0.05
	done
	lg_fail "port $port never reached both $2 and $3:$seen"
}

# amb_only PORT NAME T0_MS: polls until four new connections in a row get
# NAME (an old backend left the rotation); prints the milliseconds since
# T0_MS to the first of them and fails past AMB_LIMIT_MS.
amb_only() {
	local port=$1 want=$2 t0=$3 run=0 first=0 now
	while [ $run -lt 4 ]; do
		now=$(amb_now_ms)
		if [ "$(amb_get "$port")" = "$want" ]; then
			[ $run = 0 ] && first=$now
			run=$((run + 1))
		else
			run=0
		fi
		[ $((now - t0)) -le $AMB_GIVEUP_MS ] || lg_fail "port $port did not settle on $want within $AMB_GIVEUP_MS ms"
	done
	echo "only $want from $((first - t0)) ms"
	[ $((first - t0)) -le $AMB_LIMIT_MS ] || lg_fail "port $port took $((first - t0)) ms to settle on $want (limit $AMB_LIMIT_MS)"
}
