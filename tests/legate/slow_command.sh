# A slow reload command runs beside the event loop, not in it: while it
# runs, /health answers, a new change is rendered when it ends, SIGHUP
# waits for it, and SIGTERM exits at once, taking the command with it.
# Each command runs until the test releases it (touch $T/release), so what
# "while it runs" means does not depend on how busy the machine is.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_consul
sp=$(lg_ports 1)
printf 'v {{key.app/v}}\n' > "$T/t.mustache"
cat > "$T/legate.hcl" <<CFG
template {
  source          = "$T/t.mustache"
  destination     = "$T/out.cfg"
  command         = ["sh", "-c", "echo \$\$ > $T/cmd.pid; echo run >> $T/runs; while ! [ -e $T/release ]; do sleep 0.05; done; rm -f $T/release"]
  command_timeout = "60s"
}
CFG
runs() { [ -e "$T/runs" ] && wc -l < "$T/runs" || echo 0; }
# release: the running command ends (it removes the file as it goes).
release() {
	touch "$T/release"
	lg_wait 10 "the command released" sh -c "! [ -e $T/release ]"
}
lg_consul PUT /v1/kv/app/v 1 >/dev/null
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -config "$T/legate.hcl" \
	-status-addr "127.0.0.1:$sp"
LEGATE_PID=$LG_LAST_PID
lg_wait 10 "the first command" sh -c "[ \$(wc -l < $T/runs 2>/dev/null || echo 0) -ge 1 ]"
grep -qx 'v 1' "$T/out.cfg" || lg_fail "out.cfg: $(cat "$T/out.cfg")"

# The command waits; the loop does not.
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$sp/health" || lg_fail "/health did not answer while the command ran"
lg_consul PUT /v1/kv/app/v 2 >/dev/null
sleep 0.5
grep -qx 'v 1' "$T/out.cfg" || lg_fail "rendered again while the command still ran"
release
lg_wait 10 "v 2 after the command ended" grep -qx 'v 2' "$T/out.cfg"
lg_wait 5 "the second command" sh -c "[ \$(wc -l < $T/runs) = 2 ]"

# SIGHUP while the second command runs: deferred until it ends.
kill -HUP "$LEGATE_PID"
lg_wait 3 "the reload deferred" grep -q "SIGHUP: reloading once the running check or command ends" "$T/legate.log"
grep -q "SIGHUP: reloading configuration and templates" "$T/legate.log" && lg_fail "reloaded while the command ran"
release
lg_wait 10 "the deferred reload" grep -q "SIGHUP: reloading configuration and templates" "$T/legate.log"

# SIGTERM during a command: gone at once, the command too.
lg_consul PUT /v1/kv/app/v 3 >/dev/null
lg_wait 10 "the third command" sh -c "[ \$(wc -l < $T/runs) -ge 3 ]"
grep -qx '[0-9][0-9]*' "$T/cmd.pid" || lg_fail "the command's pid: $(cat "$T/cmd.pid")"
lg_alive "$(cat "$T/cmd.pid")" || lg_fail "the command is not running"
start=$(date +%s%N)
kill -TERM "$LEGATE_PID"
for _ in $(seq 500); do lg_alive "$LEGATE_PID" || break; sleep 0.01; done
lg_alive "$LEGATE_PID" && lg_fail "legate still running 5 s after SIGTERM during a command (which would never end)"
echo "# exited $(( ($(date +%s%N) - start) / 1000000 )) ms after SIGTERM, mid-command"
lg_wait 5 "the command gone with legate" sh -c "! kill -0 $(cat "$T/cmd.pid")"
true
