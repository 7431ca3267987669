# consul-template's retry settings hold for etcd's watches.  The daemon
# given -consul-retry-attempts N exits 14 once the watch stream (v3) or the
# wait (v2) has failed N+1 times in a row with etcd gone, saying so once;
# -once with etcd down gives up after its reads; without a limit the
# daemon keeps retrying and follows etcd when it is back.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_etcd
lg_etcd_put /config/maxconn 64 >/dev/null
curl -sSf -X PUT "http://$ETCD_ADDR/v2/keys/config/maxconn" -d value=64 >/dev/null
printf 'maxconn {{key.config/maxconn}}\n' > "$T/t.mustache"
L=("$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -template "$T/t.mustache:$T/out.cfg"
	-consul-retry-backoff 10ms -consul-retry-max-backoff 50ms)

# limited NAME ARGS...: the daemon renders, etcd stops, legate exits 14
# after 3 failed calls of the stream; etcd is started again after.
limited() {
	local name=$1 pid rc=0 what
	shift
	rm -f "$T/out.cfg"
	lg_bg "$name" "${L[@]}" -consul-retry-attempts 2 "$@"
	pid=$LG_LAST_PID
	lg_wait 20 "$name: out.cfg" grep -qx "maxconn 64" "$T/out.cfg"
	lg_stop_etcd
	lg_wait 60 "$name: legate to give up" eval '! lg_alive "$pid"'
	wait "$pid" || rc=$?
	[ "$rc" = 14 ] || lg_fail "$name: exit $rc, want 14: $(tail -3 "$T/$name.log")"
	what=$(grep -o 'error: etcd: .*; giving up after [0-9]* failed call(s)' "$T/$name.log" | head -n 1)
	[ -n "$what" ] || lg_fail "$name: no give-up of the stream: $(tail -3 "$T/$name.log")"
	case $what in *"giving up after 3 failed call(s)") ;; *) lg_fail "$name: $what, want 3 calls" ;; esac
	[ "$(grep -c 'exiting (status 14)' "$T/$name.log")" = 1 ] || lg_fail "$name: not one exit line"
	lg_log "$name: $what"
	lg_run_etcd
}
limited daemon-v3
limited daemon-v2 -etcd-v2

# -once with etcd down: its reads give up.
lg_stop_etcd
rc=0
"${L[@]}" -once -consul-retry-attempts 1 > "$T/once.log" 2>&1 || rc=$?
LG_LOGS+=("$T/once.log")
[ "$rc" = 14 ] || lg_fail "-once: exit $rc, want 14: $(tail -3 "$T/once.log")"
grep -q 'giving up after 2 failed call(s)' "$T/once.log" || lg_fail "-once: no give-up after 2 calls"

# No limit: the daemon retries through the outage and follows etcd back.
lg_run_etcd
rm -f "$T/out.cfg"
lg_bg nolimit "${L[@]}"
pid=$LG_LAST_PID
lg_wait 20 "nolimit: out.cfg" grep -qx "maxconn 64" "$T/out.cfg"
lg_stop_etcd
lg_wait 30 "nolimit: retry 10" grep -q 'retry 10 in' "$T/nolimit.log"
lg_alive "$pid" || lg_fail "nolimit: legate exited with etcd down"
lg_run_etcd
lg_etcd_put /config/maxconn 65 >/dev/null
lg_wait 30 "nolimit: out.cfg after the outage" grep -qx "maxconn 65" "$T/out.cfg"
kill -TERM "$pid"
wait "$pid" || lg_fail "nolimit: legate exited $? on SIGTERM"
echo ok
