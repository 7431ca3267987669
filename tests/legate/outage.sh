# A Consul outage leaves the installed file untouched (no empty render), the
# watcher backs off, and legate recovers by itself when Consul is back: the
# agent restarted empty on the same ports, the first call after the error
# is a plain read (no index: the new agent's indexes start low again), and
# a registration made once the agent answers reaches the file quickly (one
# watch retries about twice a second while the agent is down, and wakes the
# others when it gets through; the time is printed, not asserted).
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_consul
cat > "$T/t.mustache" <<'TPL'
{{#service.web}}
server {{id}} {{address}}:{{port}}
{{/service.web}}
TPL
lg_consul_register web-1 web 9001 >/dev/null
lg_consul_register web-2 web 9002 >/dev/null
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -template "$T/t.mustache:$T/out.cfg" \
	-log-level debug
LEGATE_PID=$LG_LAST_PID
lg_wait 10 "two servers" sh -c "[ \$(grep -c ^server $T/out.cfg 2>/dev/null) = 2 ]"
cp "$T/out.cfg" "$T/before"
before=$(stat -c %Y.%i "$T/out.cfg")

lg_stop_consul KILL
sleep 4
cmp -s "$T/before" "$T/out.cfg" || lg_fail "the file changed during the outage: $(cat "$T/out.cfg")"
[ "$(stat -c %Y.%i "$T/out.cfg")" = "$before" ] || lg_fail "the file was rewritten during the outage"
lg_alive "$LEGATE_PID" || lg_fail "legate exited during the outage"
grep -qi "retry\|backoff\|refused\|couldn't connect" "$T/legate.log" || lg_fail "no error or backoff logged"

lg_run_consul
t0=$(date +%s%N)
lg_consul_register web-1 web 9001 >/dev/null
lg_consul_register web-2 web 9002 >/dev/null
lg_consul_register web-3 web 9003 >/dev/null
lg_wait 30 "three servers after the outage" sh -c "[ \$(grep -c ^server $T/out.cfg) = 3 ]"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
lg_alive "$LEGATE_PID" || lg_fail "legate exited"
lg_log "agent restarted empty after a 4 s outage: registrations made once it answered in the file after $ms ms"
# The first call of service.web after its last error carries no index.
first=$(awk '/service\.web: consul: .*retry/ { seen = 1; next }
	seen && /service\.web: GET / { print; exit }' "$T/legate.log")
[ -n "$first" ] || lg_fail "no call of service.web after its errors"
case $first in
*index=*) lg_fail "the call after an error blocked on the old index: $first" ;;
esac
