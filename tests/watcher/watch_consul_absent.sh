# Watches of things that do not exist yet: a key, a KV folder, a service,
# a node.  Consul 1.8 ends such a blocking query at any write to the same
# table; 1.10.9/1.11.4 and later keep it blocked until the thing exists or
# the wait ends.  Either way: unrelated writes report nothing, and each
# thing is seen as soon as it appears (well before the 60 s wait), and
# again when it goes.  One exception, in Consul 1.8.7: deleting a node does
# not wake a blocking /v1/catalog/node/NAME query (1.14.11 wakes it); the
# query ends with the wait, answering null with index 1, and the watcher
# then reports the node gone.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

lg_start_consul
NAMES=(key.app/flag tree.app/conf/ service.late node.late-node nodes)
wl_watchctl -consul-addr "$CONSUL_HTTP_ADDR" -wait 60 -log-level debug "${NAMES[@]}"
wl_wait_line 'key.app/flag null'
wl_wait_line 'tree.app/conf/ []'
wl_wait_line 'service.late []'
wl_wait_line 'node.late-node null'
# The agent adds its node's meta just after start: a real change.
wl_wait_line 'nodes [{"address":"127.0.0.1","datacenter":"dc1","meta":{"consul-network-segment":""},"node":"legate-test"}]'
declare -A before
for n in "${NAMES[@]}"; do before[$n]=$(grep -c "^$n " "$OUT"); done

# Unrelated writes to each table those queries block on.
for i in 1 2 3 4 5; do
	lg_consul PUT "/v1/kv/other/k$i" "$i" > /dev/null
	lg_consul_register "other$i" other "900$i" > /dev/null
done
lg_wait 10 "the unrelated writes" sh -c "curl -sf http://$CONSUL_HTTP_ADDR/v1/health/service/other | grep -q other5"
sleep 1
for n in "${NAMES[@]}"; do
	[ "$(grep -c "^$n " "$OUT")" = "${before[$n]}" ] || lg_fail "$n reported an unrelated write: $(grep "^$n " "$OUT")"
	lg_log "consul $LG_CONSUL_VERSION: $n: $(grep -c "^watchctl: debug: $n: GET " "$T/watchctl.log") calls across 10 unrelated writes"
done

# Each appears: seen at once, not at the end of the wait.
lg_consul PUT /v1/kv/app/flag on > /dev/null
wl_wait_line 'key.app/flag "on"'
lg_consul PUT /v1/kv/app/conf/a 1 > /dev/null
wl_wait_line 'tree.app/conf/ [{"key":"a","path":"app/conf/a","value":"1"}]'
lg_consul_register late1 late 9100 > /dev/null
wl_wait_ids service.late "late1"
lg_consul PUT /v1/catalog/register \
	'{"Node":"late-node","Address":"127.0.0.9","Service":{"ID":"db1","Service":"db","Port":5432}}' > /dev/null
lg_wait 15 "node.late-node" grep -q '^node.late-node {"address":"127.0.0.9"' "$OUT"
lg_wait 15 "late-node in nodes" sh -c "grep '^nodes ' '$OUT' | tail -n 1 | grep -q '\"late-node\".*\"legate-test\"'"

# And goes.
lg_consul DELETE /v1/kv/app/flag > /dev/null
lg_consul DELETE '/v1/kv/app/conf/?recurse' > /dev/null
lg_consul_deregister late1 > /dev/null
lg_consul PUT /v1/catalog/deregister '{"Node":"late-node"}' > /dev/null
lg_wait 15 "key.app/flag gone" sh -c "[ \"\$(grep '^key.app/flag ' '$OUT' | tail -n 1)\" = 'key.app/flag null' ]"
lg_wait 15 "tree.app/conf/ empty" sh -c "[ \"\$(grep '^tree.app/conf/ ' '$OUT' | tail -n 1)\" = 'tree.app/conf/ []' ]"
wl_wait_ids service.late ""
node_gone() { [ "$(grep '^node.late-node ' "$OUT" | tail -n 1)" = 'node.late-node null' ]; }
if lg_consul_at_least 1.14; then
	lg_wait 15 "node.late-node gone" node_gone
	[ "$(grep -c '^node.late-node ' "$OUT")" = 3 ] || lg_fail "node.late-node: $(grep '^node.late-node ' "$OUT")"
else
	sleep 2
	node_gone && lg_fail "consul $LG_CONSUL_VERSION woke the node query: the README says it does not"
fi
lg_wait 15 "late-node gone from nodes" sh -c "[ \$(grep -c '^nodes ' '$OUT') = $((before[nodes] + 2)) ]"
grep '^nodes ' "$OUT" | tail -n 1 | lg_grepq late-node && lg_fail "late-node still in nodes"
wl_expect_values key.app/flag 'null|"on"|null|'
wl_expect_ids service.late "|late1||"
grep -q 'watchctl: warn' "$T/watchctl.log" && lg_fail "unexpected warnings"
lg_alive "$WPID" || lg_fail "watchctl died"
kill -TERM "$WPID"
wait "$WPID" || lg_fail "watchctl exited $?"

if ! lg_consul_at_least 1.14; then
	# 1.8: the node's removal arrives with the end of the wait (3 s here).
	mv "$T/watchctl.log" "$T/watchctl-60s.log"
	lg_consul PUT /v1/catalog/register '{"Node":"late-node","Address":"127.0.0.9"}' > /dev/null
	wl_watchctl -consul-addr "$CONSUL_HTTP_ADDR" -wait 3 -log-level debug node.late-node
	lg_wait 15 "node.late-node" grep -q '^node.late-node {"address":"127.0.0.9"' "$OUT"
	lg_consul PUT /v1/catalog/deregister '{"Node":"late-node"}' > /dev/null
	lg_wait 15 "node.late-node gone at the end of the wait" node_gone
	# The answer under index 1 is checked with a consistent read, itself
	# a plain (non-blocking) one.
	[ "$(grep -cE 'GET .*/v1/catalog/node/late-node(\?consistent=)?$' "$T/watchctl.log")" -ge 2 ] ||
		lg_fail "no plain read after the index went back to 1"
	kill -TERM "$WPID"
	wait "$WPID" || lg_fail "watchctl exited $?"
fi
echo ok
