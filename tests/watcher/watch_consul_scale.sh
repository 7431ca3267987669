# Watching more services than the connection cap: the first ones long-poll
# on their own, the rest are re-read when the catalog-wide triggers move.
# Connections to the agent never pass the cap, no 429 ever, and changes to
# services beyond the cap (registration, a check flip, deregistration) are
# each reported once.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

N=150
CAP=12
lg_start_consul
# N services on another node, registered through the catalog in one curl.
args=()
for i in $(seq 1 $N); do
	args+=(-o /dev/null -X PUT --data-binary "{\"Node\":\"ext\",\"Address\":\"10.1.0.1\",\"Service\":{\"ID\":\"s$i-a\",\"Service\":\"s$i\",\"Port\":$((9000 + i))}}" \
		"http://$CONSUL_HTTP_ADDR/v1/catalog/register" --next)
done
curl -sSf "${args[@]}" -o /dev/null -X GET "http://$CONSUL_HTTP_ADDR/v1/status/leader"
for i in $(seq 1 $N); do echo "service.s$i"; done > "$T/names"
echo services >> "$T/names"

wl_watchctl -consul-addr "$CONSUL_HTTP_ADDR" -max-conns $CAP -wait 10 -log-level debug \
	-names-file "$T/names"
lg_wait 30 "all $((N + 1)) watches" sh -c "[ \$(wc -l < '$OUT') -ge $((N + 1)) ]"

# conns: established connections watchctl holds to the agent.
conns() { ss -tnpH state established "( dport = :$CONSUL_HTTP_PORT )" | grep -c "pid=$WPID," || true; }
peak=0
sample() { local c; c=$(conns); [ "$c" -gt "$peak" ] && peak=$c; return 0; }
sample

reg() { lg_consul PUT /v1/catalog/register "$1" > /dev/null; }
# A new instance of the last service (far beyond the cap).
reg "{\"Node\":\"ext2\",\"Address\":\"10.1.0.2\",\"Service\":{\"ID\":\"s$N-b\",\"Service\":\"s$N\",\"Port\":1}}"
for i in 1 2 3 4 5 6 7 8 9 10; do sample; sleep 0.1; done
wl_wait_ids "service.s$N" "s$N-a s$N-b"
# A failing check on that instance: the health trigger re-reads it.
reg "{\"Node\":\"ext2\",\"Address\":\"10.1.0.2\",\"Check\":{\"CheckID\":\"c\",\"Name\":\"c\",\"Status\":\"critical\",\"ServiceID\":\"s$N-b\"}}"
wl_wait_ids "service.s$N" "s$N-a"
reg "{\"Node\":\"ext2\",\"Address\":\"10.1.0.2\",\"Check\":{\"CheckID\":\"c\",\"Name\":\"c\",\"Status\":\"passing\",\"ServiceID\":\"s$N-b\"}}"
wl_wait_ids "service.s$N" "s$N-a s$N-b"
lg_consul PUT /v1/catalog/deregister '{"Node":"ext2"}' > /dev/null
wl_wait_ids "service.s$N" "s$N-a"
# And one of the first services, which long-polls on its own.
reg '{"Node":"ext2","Address":"10.1.0.2","Service":{"ID":"s1-b","Service":"s1","Port":1}}'
wl_wait_ids service.s1 "s1-a s1-b"
# A health flip alone (an agent TTL check) re-reads only its service.
M=$((N - 1))
lg_consul PUT /v1/agent/service/register "{\"ID\":\"s$M-c\",\"Name\":\"s$M\",\"Port\":3,\"Check\":{\"TTL\":\"600s\"}}"
lg_consul PUT "/v1/agent/check/pass/service:s$M-c"
wl_wait_ids "service.s$M" "s$M-a s$M-c"
sleep 0.5
reads() { grep -c "GET .*/v1/health/service/$1?" "$T/watchctl.log" || true; }
before=$(reads s100)
lg_consul PUT "/v1/agent/check/fail/service:s$M-c"
wl_wait_ids "service.s$M" "s$M-a"
lg_consul PUT "/v1/agent/check/pass/service:s$M-c"
wl_wait_ids "service.s$M" "s$M-a s$M-c"
sleep 0.5
[ "$(reads s100)" = "$before" ] || lg_fail "a health flip of s$M re-read s100 ($before -> $(reads s100))"
sleep 1
sample

wl_expect_ids "service.s$M" "s$M-a|s$M-a s$M-c|s$M-a|s$M-a s$M-c|"
wl_expect_ids "service.s$N" "s$N-a|s$N-a s$N-b|s$N-a|s$N-a s$N-b|s$N-a|"
wl_expect_ids service.s1 "s1-a|s1-a s1-b|"
# Other services saw nothing (one line each: their first read).
[ "$(grep -c '^service.s2 ' "$OUT")" = 1 ] || lg_fail "service.s2 reported a change that was not there"
[ "$peak" -le $CAP ] || lg_fail "$peak connections to the agent, cap $CAP"
[ "$peak" -ge 3 ] || lg_fail "only $peak connections: the count is broken"
grep -q 'HTTP 429' "$T/watchctl.log" && lg_fail "the agent answered 429"
kill -USR1 "$WPID"
lg_wait 5 "status" grep -q '^status ' "$OUT"
grep '^status ' "$OUT" | lg_grepq '"mode":"triggered"' || lg_fail "no triggered watches"
echo "peak connections: $peak (cap $CAP)"
kill -TERM "$WPID"
wait "$WPID" || lg_fail "watchctl exited $?"
grep -q 'Sanitizer' "$T/watchctl.log" && lg_fail "sanitizer report"
echo ok
