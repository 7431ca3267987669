# With a template listing every service and more services than long-poll
# slots, the catalog sweep long-polls the nodes holding the most services
# (three of the slots with -max-connections 8) and passes them by: their
# changes arrive by their polls.  Checked against what users do:
# registrations on a polled and on an unpolled node, a deregistration, a
# check going critical and back on a polled node's instance, a polled node
# leaving the catalog, and a node new to the catalog; each reaches the file,
# and a sweep reads no polled node.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_consul
# reg NODE ID SERVICE: an instance on NODE (address 10.1.0.1 for all); in
# the file, a service's instances come by node (ext first), then id
reg() {
	lg_consul PUT /v1/catalog/register "{\"Node\":\"$1\",\"Address\":\"10.1.0.1\",\"Service\":{\"ID\":\"$2\",\"Service\":\"$3\",\"Port\":1}}" > /dev/null
}
args=()
for i in $(seq 1 30); do
	args+=(-o /dev/null -X PUT --data-binary "{\"Node\":\"ext\",\"Address\":\"10.1.0.1\",\"Service\":{\"ID\":\"s$i-a\",\"Service\":\"s$i\",\"Port\":1}}" \
		"http://$CONSUL_HTTP_ADDR/v1/catalog/register" --next)
done
curl -sSf "${args[@]}" -o /dev/null -X GET "http://$CONSUL_HTTP_ADDR/v1/status/leader"
for i in 1 2 3 4 5; do reg node-a "a$i" "s$i"; done
for i in 1 2 3; do reg node-b "b$i" "s$i"; done
reg node-c c1 s1

printf '{{#services}}{{name}}:{{#instances}} {{id}}{{/instances}}\n{{/services}}' > "$T/t.mustache"
# blocking reads of 5 s: a poll of a node gone (Consul ends it only when
# its wait runs out) frees its slot within the test
echo 'block_query_wait = "5s"' > "$T/legate.hcl"
sp=$(lg_ports 1)
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -max-connections 8 -config "$T/legate.hcl" \
	-status-addr "127.0.0.1:$sp" -log-level debug -template "$T/t.mustache:$T/out"
pid=$LG_LAST_PID
lg_wait 20 "every service in the file" grep -q '^s30: s30-a$' "$T/out"
line() { grep "^$1:" "$T/out"; }
# polls: the nodes polled so far (log order, each once)
polls() { sed -n 's|.*node poll: GET http://[^/]*/v1/catalog/node/\([^?]*\)?.*|\1|p' "$T/legate.log" | awk '!seen[$0]++'; }
swept() { grep -c "catalog sweep: GET http://[^/]*/v1/catalog/node/$1\$" "$T/legate.log" || true; }
lg_wait 10 "three node polls" sh -c "[ \$(sed -n 's|.*node poll: GET .*/node/\([^?]*\)?.*|\1|p' '$T/legate.log' | sort -u | wc -l) -ge 3 ]"
got=$(polls | sort | tr '\n' ' ')
[ "$got" = "ext node-a node-b " ] || lg_fail "polled: $got (ext, node-a and node-b hold the most services)"
line s1 | lg_grepq -x 's1: s1-a a1 b1 c1' || lg_fail "s1 is $(line s1)"

ext0=$(swept ext)
# 1. A registration on a polled node, then on an unpolled one.
reg ext s30-b s30
lg_wait 10 "s30-b in the file" sh -c "grep -qx 's30: s30-a s30-b' '$T/out'"
reg node-c c2 s30
lg_wait 10 "c2 in the file" sh -c "grep -qx 's30: s30-a s30-b c2' '$T/out'"
# 2. A deregistration on a polled node.
lg_consul PUT /v1/catalog/deregister '{"Node":"node-a","ServiceID":"a2"}' > /dev/null
lg_wait 10 "a2 gone" sh -c "grep -qx 's2: s2-a b2' '$T/out'"
sleep 1
[ "$(swept ext)" = "$ext0" ] || lg_fail "sweeps read the polled node ext ($ext0 -> $(swept ext) reads)"
# 3. A check critical, then passing, on an instance of a polled node.
chk() {
	lg_consul PUT /v1/catalog/register "{\"Node\":\"node-b\",\"Address\":\"10.1.0.1\",\"Check\":{\"CheckID\":\"c\",\"Name\":\"c\",\"Status\":\"$1\",\"ServiceID\":\"b3\"}}" > /dev/null
}
chk critical
lg_wait 10 "b3 gone while critical" sh -c "grep -qx 's3: s3-a a3' '$T/out'"
chk passing
lg_wait 10 "b3 back" sh -c "grep -qx 's3: s3-a a3 b3' '$T/out'"
# 4. A polled node leaves the catalog; a new node comes.
lg_consul PUT /v1/catalog/deregister '{"Node":"node-a"}' > /dev/null
lg_wait 10 "node-a's instances gone" sh -c "grep -qx 's1: s1-a b1 c1' '$T/out' && grep -qx 's4: s4-a' '$T/out'"
for i in 1 2 3 4 5 6; do reg node-d "d$i" "s$((10 + i))"; done
lg_wait 10 "node-d's instances" sh -c "grep -qx 's16: s16-a d6' '$T/out'"
reg node-d d7 s17
lg_wait 10 "d7" sh -c "grep -qx 's17: s17-a d7' '$T/out'"
# node-a's slot goes to another node (node-c or node-d, whichever a sweep
# finds first once node-a's poll is over: polls are not moved later)
lg_wait 15 "node-a's slot taken" sh -c "grep -q 'node poll: GET .*/node/node-[cd]?' '$T/legate.log'"

lg_alive "$pid" || lg_fail "legate exited"
curl -sf -o /dev/null "http://127.0.0.1:$sp/health" || lg_fail "/health is not 200"
[ "$(lg_agent_conns "$CONSUL_HTTP_PORT")" -le 8 ] || lg_fail "more than 8 connections to the agent"
echo ok
