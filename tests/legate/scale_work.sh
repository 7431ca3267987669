# legate's work at a few thousand services counted, not timed: the
# {{#services}}{{#instances}} template over 3,000 services x 2 instances on
# 50 nodes.  Start-up renders a bounded number of times (not once per
# arriving watch) and costs requests that do not grow with the services
# (the first data comes from sweeps of the nodes), and a change to a
# service beyond the long-poll slots costs one catalog sweep (the node list
# and the 50 nodes), not a read of every service: each is what quadratic
# work would break, whatever the machine's speed.
. "$LEGATE_ROOT/tests/lib.sh"

N=${SCALE_WORK_SERVICES:-3000}
NODES=50
CHANGES=5

lg_start_consul
python3 "$LEGATE_ROOT/bench/scale/fill.py" "$CONSUL_HTTP_ADDR" "$N" 2 "$NODES"
printf '{{#services}}{{name}}:{{#instances}} {{id}}@{{port}}{{/instances}}\n{{/services}}' > "$T/t.mustache"
STATUS=127.0.0.1:$(lg_ports 1)
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -log-level warn \
	-status-addr "$STATUS" -template "$T/t.mustache:$T/out"
pid=$LG_LAST_PID

metric() { curl -sf "http://$STATUS/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { print s + 0 }'; }
# every service listed with both instances (and consul itself)
complete() {
	awk -v n="$N" '$1 ~ /^svc-/ { if (NF >= 3) ok++ } END { exit !(ok == n) }' "$T/out" 2>/dev/null
}
lg_wait 120 "all $N services in the file" complete
renders=$(metric legate_renders_total)
req=$(metric legate_requests_total)
lg_log "start-up: $renders renders, $req requests for $N services"
# bounded renders: a render per arriving watch would be thousands
[ "$renders" -le 10 ] || lg_fail "start-up rendered $renders times (at most 10 expected)"
# requests that do not grow with the services: the watches beyond the
# long-poll slots get their first data from a few sweeps of the 50 nodes,
# not from a read each (that would be N)
[ "$req" -le $((10 * (NODES + 1) + 100)) ] || lg_fail "start-up sent $req requests for $N services"

sleep 2   # the start-up's last sweeps end
req0=$(metric legate_requests_total); sw0=$(metric legate_catalog_sweeps_total); r0=$(metric legate_renders_total)
for ((c = 0; c < CHANGES; c++)); do
	lg_consul PUT /v1/catalog/register "{\"Node\":\"node-0\",\"Address\":\"10.1.0.1\",\"Service\":{\"ID\":\"new-$c\",\"Service\":\"svc-$((N - 1))\",\"Port\":$((30000 + c))}}" > /dev/null
	lg_wait 30 "new-$c in the file" grep -q "new-$c@" "$T/out"
	sleep 0.5
done
req=$(($(metric legate_requests_total) - req0))
sweeps=$(($(metric legate_catalog_sweeps_total) - sw0))
renders=$(($(metric legate_renders_total) - r0))
polls=$(metric legate_catalog_node_polls)
lg_log "$CHANGES changes: $req requests, $sweeps sweeps, $renders renders; $polls nodes long-polled"
[ "$sweeps" -ge 1 ] || lg_fail "no catalog sweep for a change beyond the long-poll slots"
# 18 of the 25 long-poll slots are kept for nodes once `services` is watched
[ "$polls" = 18 ] || lg_fail "$polls nodes long-polled (18 expected: 50 nodes, 18 slots kept)"
# a sweep costs the node list and each node: 1 + NODES; the triggers'
# own long-polls come back too; a read of every service would be N
[ "$req" -le $((CHANGES * (NODES + 10))) ] || lg_fail "$CHANGES changes cost $req requests (a sweep is $((NODES + 1)))"
[ "$renders" -le $((CHANGES * 2)) ] || lg_fail "$CHANGES changes cost $renders renders"
# /status (a document of every watch) leaves the private memory as it was:
# what building it took goes back to the system (4.3 MB stayed before; not
# with the sanitizers' allocator, which keeps freed memory on purpose)
anon() { awk '/^RssAnon/ { print $2 }' "/proc/$pid/status"; }
m0=$(anon)
for i in 1 2 3; do curl -sf -o /dev/null "http://$STATUS/status" || lg_fail "/status failed"; done
m1=$(anon)
lg_log "private memory $m0 kB, after /status three times $m1 kB"
if [ "${LEGATE_FLAVOR:-release}" != asan ]; then
	[ $((m1 - m0)) -le 2048 ] || lg_fail "/status left private memory $((m1 - m0)) kB higher ($m0 -> $m1 kB)"
fi
lg_alive "$pid" || lg_fail "legate exited"
