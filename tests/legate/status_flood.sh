# The status server keeps answering /health under the clients that starve
# a small HTTP server: hundreds of half-sent requests whose senders close,
# hundreds of idle connections held open, slow senders that never finish.
# Every probe must be answered; each has 10 s, which only a starved server
# needs.  Afterwards legate holds no more descriptors than before.
. "$LEGATE_ROOT/tests/lib.sh"

sp=$(lg_ports 1)
printf 'home {{env.HOME}}\n' > "$T/t.mustache"
lg_bg legate "$LEGATE_BIN/legate" -consul-addr 127.0.0.1:1 \
	-template "$T/t.mustache:$T/out.cfg" -status-addr "127.0.0.1:$sp"
LEGATE_PID=$LG_LAST_PID
lg_wait 10 "/health 200" curl -sf "http://127.0.0.1:$sp/health"
fds() { ls "/proc/$LEGATE_PID/fd" | wc -l; }
base=$(fds)

# probes WHAT: 10 requests for /health, one after another; all answered.
probes() {
	local ok=0 i code
	for ((i = 0; i < 10; i++)); do
		code=$(curl -s -o /dev/null -m 10 -w '%{http_code}' "http://127.0.0.1:$sp/health" || true)
		[ "$code" = 200 ] && ok=$((ok + 1))
	done
	[ $ok = 10 ] || lg_fail "$1: $ok of 10 probes of /health answered"
	lg_alive "$LEGATE_PID" || lg_fail "legate died after $1"
}

# Half-sent requests, senders gone.
for n in 100 500; do
	out=$("$LEGATE_TOOLS/connflood" "$sp" half $n)
	[ "$out" = "$n sent, 0 failed" ] || lg_fail "connflood half $n: $out"
	probes "$n half-sent requests"
done

# Idle connections held open, then slow senders, while the probes run.
for mode in idle slow; do
	lg_bg "$mode" "$LEGATE_TOOLS/connflood" "$sp" $mode 500
	pid=$LG_LAST_PID
	lg_wait 60 "500 $mode connections" grep -q ' open' "$T/$mode.log"
	grep -q '^500 open, 0 failed' "$T/$mode.log" || lg_fail "connflood $mode: $(cat "$T/$mode.log")"
	probes "500 $mode connections"
	lg_alive "$pid" || lg_fail "connflood $mode ended early"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
done

# Keep-alive still works: two requests on one connection.
out=$(curl -s "http://127.0.0.1:$sp/health" "http://127.0.0.1:$sp/health" -w '%{num_connects}\n')
[ "$out" = "ok
1
ok
0" ] || lg_fail "two requests on one connection: $out"

# Every connection is closed once its client is gone.
lg_wait 30 "legate back to $base descriptors (has $(fds))" sh -c "[ \$(ls /proc/$LEGATE_PID/fd | wc -l) -le $base ]"
