# tests/watcher/lib.bash: helpers shared by the watcher tests (sourced
# after tests/lib.sh).  They read watchctl's output file $OUT, whose lines
# are "NAME JSON".

# wl_watchctl ARGS...: starts watchctl; changes go to $OUT, logs to
# $T/watchctl.log (shown on failure); sets WPID.
wl_watchctl() {
	OUT=$T/watchctl.out
	# Emptied here, not by the background shell's redirections: a wait
	# that starts at once must not read the previous run's lines.
	: > "$OUT"
	: > "$T/watchctl.log"
	"$LEGATE_TOOLS/watchctl" "$@" > "$OUT" 2> "$T/watchctl.log" &
	WPID=$!
	LG_PIDS+=($WPID)
	LG_LOGS+=("$T/watchctl.log" "$OUT")
}

# wl_ids NAME: one line per change of NAME: the ids (or names) it listed.
wl_ids() {
	local name=$1
	grep "^$(printf '%s' "$name" | sed 's/[.[\*^$]/\\&/g') " "$OUT" | while IFS= read -r line; do
		# an instance's checks carry ids of their own
		printf '%s\n' "${line#* }" | sed 's/"checks":\[[^]]*\]//g' | grep -o '"\(id\|name\)":"[^"]*"' |
			{ if [ "$name" = services ]; then grep '"name"'; else grep '"id"'; fi } |
			sed 's/.*:"\(.*\)"/\1/' | tr '\n' ' ' | sed 's/ $//'
		printf '\n'
	done
}

# wl_last_ids NAME: the ids in NAME's last line.
wl_last_ids() { wl_ids "$1" | tail -n 1; }

wl_has_ids() { [ "$(grep -c "^$(printf '%s' "$1" | sed 's/[.[\*^$]/\\&/g') " "$OUT")" -gt 0 ] && [ "$(wl_last_ids "$1")" = "$2" ]; }

# wl_wait_ids NAME "ID ID": waits until NAME's last line lists those ids.
wl_wait_ids() { lg_wait 15 "$1 = [$2]" wl_has_ids "$1" "$2"; }

# wl_wait_line LINE: waits for that whole output line (fixed text).
wl_wait_line() { lg_wait 15 "line: $1" grep -qxF -- "$1" "$OUT"; }

# wl_expect_ids NAME "a|a b|": the whole history, changes joined by '|'.
wl_expect_ids() {
	local got
	got=$(wl_ids "$1" | tr '\n' '|')
	[ "$got" = "$2" ] || lg_fail "$1 history: got '$got', want '$2'"
}

# wl_expect_id_changes NAME "a|a b|": the same, with a change that kept the
# ids (another field moved: a restarted agent's node ID) counted once.
wl_expect_id_changes() {
	local got
	got=$(wl_ids "$1" | uniq | tr '\n' '|')
	[ "$got" = "$2" ] || lg_fail "$1 history of ids: got '$got', want '$2'"
}

# wl_expect_values NAME 'v|v|': the history of a watch's JSON values.
wl_expect_values() {
	local got
	got=$(grep "^$(printf '%s' "$1" | sed 's/[.[\*^$]/\\&/g') " "$OUT" | cut -d' ' -f2- | tr '\n' '|')
	[ "$got" = "$2" ] || lg_fail "$1 history: got '$got', want '$2'"
}

# Outages: stop a server and start it again on the same ports.  A dev
# Consul agent restarts empty, with its indexes starting over; etcd keeps
# its data dir.
# (lg_stop_consul, lg_run_consul, lg_stop_etcd and lg_run_etcd are in
# tests/lib.sh.)

# wl_start_faultproxy TARGET_PORT HEALTH_PATH: the fault-injecting proxy in
# front of 127.0.0.1:TARGET_PORT, passing traffic until "$MODE" says
# otherwise.  Sets PROXY_PORT, MODE and PROXY (its pid); waits until
# HEALTH_PATH answers through it.
wl_start_faultproxy() {
	PROXY_PORT=$(lg_ports 1)
	MODE=$T/mode
	echo pass > "$MODE"
	lg_bg faultproxy "$LEGATE_TOOLS/faultproxy" "$PROXY_PORT" "$1" "$MODE"
	PROXY=$LG_LAST_PID
	lg_wait 10 "faultproxy" curl -sf "http://127.0.0.1:$PROXY_PORT$2"
}
