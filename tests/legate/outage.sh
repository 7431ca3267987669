# A Consul outage leaves the installed file untouched (no empty render), the
# watcher backs off, and legate recovers by itself when Consul is back.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_consul
cat > "$T/t.mustache" <<'TPL'
{{#service.web}}
server {{id}} {{address}}:{{port}}
{{/service.web}}
TPL
lg_consul_register web-1 web 9001 >/dev/null
lg_consul_register web-2 web 9002 >/dev/null
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -template "$T/t.mustache:$T/out.cfg"
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
lg_consul_register web-1 web 9001 >/dev/null
lg_consul_register web-2 web 9002 >/dev/null
lg_consul_register web-3 web 9003 >/dev/null
lg_wait 30 "three servers after the outage" sh -c "[ \$(grep -c ^server $T/out.cfg) = 3 ]"
lg_alive "$LEGATE_PID" || lg_fail "legate exited"
