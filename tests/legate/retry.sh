# consul-template's retry settings.  With the agent unreachable, -once gives
# up after its retries and exits 14 (consul-template's runner error status),
# writing nothing: -consul-retry-attempts N makes N+1 calls (and the probe's
# tries between them when the backoff is longer than its 0.5 s),
# -consul-retry=false one, the HCL retry block the same, and the default is
# 12 retries.  The
# daemon retries without a limit by default and renders once the agent
# answers; given -consul-retry-attempts, it exits 14 too.  Against a live
# agent, a consul-template file (consul = "addr", once = true, a template's
# exec block) runs as is.
# legate-test: timeout=200
. "$LEGATE_ROOT/tests/lib.sh"

lg_pick_consul_ports
printf 'maxconn {{key.config/maxconn}}\n' > "$T/t.mustache"
L=("$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -template "$T/t.mustache:$T/out.cfg")

# once_down NAME WANT_CALLS ARGS...: -once with the agent down exits 14
# after WANT_CALLS failed calls, and writes nothing.
once_down() {
	local name=$1 want=$2 rc=0 calls
	shift 2
	"${L[@]}" -once "$@" > "$T/$name.log" 2>&1 || rc=$?
	LG_LOGS+=("$T/$name.log")
	[ "$rc" = 14 ] || lg_fail "$name: exit $rc, want 14: $(tail -3 "$T/$name.log")"
	calls=$(( $(grep -c 'key.config/maxconn: consul: .*; retry [0-9]* in' "$T/$name.log" || true) + 1 ))
	grep -q "giving up after $want failed call(s)" "$T/$name.log" ||
		lg_fail "$name: no give-up after $want calls: $(tail -3 "$T/$name.log")"
	[ "$calls" = "$want" ] || lg_fail "$name: $calls calls, want $want"
	grep -q 'cannot be read; exiting (status 14)' "$T/$name.log" || lg_fail "$name: no exit message"
	[ ! -e "$T/out.cfg" ] || lg_fail "$name: a file was written with the agent down"
	lg_log "$name: exit 14 after $calls calls"
}
once_down attempts-2 3 -consul-retry-attempts 2 -consul-retry-backoff 20ms
once_down no-retry 1 -consul-retry=false
once_down default 13 -consul-retry-backoff 1ms -consul-retry-max-backoff 20ms
cat > "$T/retry.hcl" <<HCL
consul {
  retry {
    attempts    = 1
    backoff     = "10ms"
    max_backoff = "10ms"
  }
}
HCL
once_down hcl-block 2 -config "$T/retry.hcl"
# The flag over the file.
once_down flag-over-file 4 -config "$T/retry.hcl" -consul-retry-attempts 3
# The probe (the agent down) tries twice a second whatever the backoff;
# its tries ahead of the backoff's end are not counted as retries: with a
# 2 s backoff, "retry 1" is logged more than once before the give-up after
# two counted calls.
rc=0
"${L[@]}" -once -consul-retry-attempts 1 -consul-retry-backoff 2s > "$T/probe.log" 2>&1 || rc=$?
LG_LOGS+=("$T/probe.log")
[ "$rc" = 14 ] || lg_fail "probe: exit $rc, want 14: $(tail -3 "$T/probe.log")"
grep -q 'giving up after 2 failed call(s)' "$T/probe.log" || lg_fail "probe: no give-up after 2 calls: $(tail -3 "$T/probe.log")"
early=$(grep -c 'key.config/maxconn: consul: .*; retry 1 in' "$T/probe.log" || true)
[ "$early" -ge 2 ] || lg_fail "probe: 'retry 1' logged $early time(s), want the probe's tries too"
lg_log "probe: exit 14 after 2 counted calls, 'retry 1' logged $early times"

# The daemon, no limit by default: past 12 retries it still runs, and
# renders once the agent is up.
lg_bg legate "${L[@]}" -consul-retry-backoff 10ms -consul-retry-max-backoff 50ms
LEGATE_PID=$LG_LAST_PID
lg_wait 60 "retry 20 in the daemon" grep -q 'retry 20 in' "$T/legate.log"
lg_alive "$LEGATE_PID" || lg_fail "the daemon exited with the agent down"
lg_run_consul
lg_consul PUT /v1/kv/config/maxconn 64 > /dev/null
lg_wait 30 "out.cfg once the agent is up" grep -qx "maxconn 64" "$T/out.cfg"
kill -TERM "$LEGATE_PID"
wait "$LEGATE_PID" || lg_fail "legate exited $? on SIGTERM"
rm -f "$T/out.cfg"

# The daemon with -consul-retry-attempts: gives up like -once.
lg_stop_consul
rc=0
"${L[@]}" -consul-retry-attempts 2 -consul-retry-backoff 10ms > "$T/daemon-limit.log" 2>&1 || rc=$?
LG_LOGS+=("$T/daemon-limit.log")
[ "$rc" = 14 ] || lg_fail "daemon with attempts: exit $rc, want 14"
grep -q 'giving up after 3 failed call(s)' "$T/daemon-limit.log" || lg_fail "daemon: no give-up after 3 calls"

# A consul-template file against a live agent: the string form of consul,
# once = true, and a template's exec block run as its command.
lg_run_consul
lg_consul PUT /v1/kv/config/maxconn 65 > /dev/null
cat > "$T/ct.hcl" <<HCL
consul = "$CONSUL_HTTP_ADDR"
once   = true
template {
  source      = "$T/t.mustache"
  destination = "$T/ct.cfg"
  exec {
    command = ["sh", "-c", "cat $T/ct.cfg > $T/exec.out"]
    timeout = "10s"
  }
}
HCL
rc=0
"$LEGATE_BIN/legate" -config "$T/ct.hcl" > "$T/ct.log" 2>&1 || rc=$?
LG_LOGS+=("$T/ct.log")
[ "$rc" = 0 ] || lg_fail "the consul-template file: exit $rc: $(tail -3 "$T/ct.log")"
grep -qx "maxconn 65" "$T/ct.cfg" || lg_fail "ct.cfg: $(cat "$T/ct.cfg")"
grep -qx "maxconn 65" "$T/exec.out" || lg_fail "the exec command did not run after the install"
echo ok
