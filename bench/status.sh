# bench/status: /health under the clients that starve a small HTTP server.
# For each attack, 20 probes of /health one after another (5 s each at
# most): how many were answered, p50 and max time in ms.  Attacks: none;
# right after 100 and 500 half-sent requests whose senders closed; while
# 500 idle connections are held; while 500 slow senders trickle headers.
# BENCH_STATUS_PEER=/path/to/another/legate adds its column (an older
# build, for a before/after table).
. "$LEGATE_ROOT/tests/lib.sh"

PROBES=${BENCH_PROBES:-20}
printf 'home {{env.HOME}}\n' > "$T/t.mustache"

# probe PORT: "answered/PROBES p50 max".
probe() {
	local i t
	: > "$T/times"
	for ((i = 0; i < PROBES; i++)); do
		curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$1/health" >> "$T/times" || true
	done
	awk '$1 == 200 { printf "%.1f\n", $2 * 1000 }' "$T/times" | sort -n > "$T/ok"
	local ok
	ok=$(wc -l < "$T/ok")
	if [ "$ok" = 0 ]; then
		echo "0/$PROBES - -"
	else
		echo "$ok/$PROBES $(sed -n "$(((ok + 1) / 2))p" "$T/ok") $(tail -n 1 "$T/ok")"
	fi
}

# attack BIN: one line per attack for the legate at BIN.
attack() {
	local port pid
	port=$(lg_ports 1)
	lg_bg "legate-$port" "$1" -consul-addr 127.0.0.1:1 -template "$T/t.mustache:$T/out-$port.cfg" \
		-status-addr "127.0.0.1:$port" -log-level warn
	pid=$LG_LAST_PID
	lg_wait 10 "/health on $port" curl -sf "http://127.0.0.1:$port/health"
	echo "none $(probe "$port")"
	for n in 100 500; do
		"$LEGATE_TOOLS/connflood" "$port" half $n > /dev/null
		echo "half-$n $(probe "$port")"
	done
	for mode in idle slow; do
		lg_bg "$mode-$port" "$LEGATE_TOOLS/connflood" "$port" $mode 500
		lg_wait 120 "500 $mode connections" grep -q ' open' "$T/$mode-$port.log"
		echo "$mode-500 $(probe "$port")"
		kill "$LG_LAST_PID"
		wait "$LG_LAST_PID" 2>/dev/null || true
	done
	kill "$pid"
}

attack "$LEGATE_BIN/legate" > "$T/a"
if [ -n "${BENCH_STATUS_PEER:-}" ]; then
	attack "$BENCH_STATUS_PEER" > "$T/b"
else
	awk '{ print $1, "-", "-", "-" }' "$T/a" > "$T/b"
fi
printf '%-10s | %-22s | %s\n' attack "legate: answered p50 max" "peer: answered p50 max"
cut -d' ' -f2- "$T/b" | paste -d' ' "$T/a" - | awk '{ printf "%-10s | %-8s %6s %6s | %-8s %6s %6s\n", $1, $2, $3, $4, $5, $6, $7 }'
