# A template's `services` watch asks what the catalog trigger would (every
# service, by a long-poll): past the long-poll slots it serves as the
# trigger, so a catalog change costs the agent one services list, not two.
# A change to a service beyond the slots that leaves the list as it was
# (an instance added) still reaches the file.  When a reload drops the
# `services` watch, a trigger of legate's own takes over and changes go on
# reaching the file; when a reload brings `services` back, changes still
# arrive (it has a trigger already, so it long-polls on its own).
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"

N=30
lg_start_consul
args=()
for i in $(seq 1 $N); do
	args+=(-o /dev/null -X PUT --data-binary "{\"Node\":\"ext\",\"Address\":\"10.1.0.1\",\"Service\":{\"ID\":\"s$i-a\",\"Service\":\"s$i\",\"Port\":$((9000 + i))}}" \
		"http://$CONSUL_HTTP_ADDR/v1/catalog/register" --next)
done
curl -sSf "${args[@]}" -o /dev/null -X GET "http://$CONSUL_HTTP_ADDR/v1/status/leader"

printf '{{#services}}{{name}}:{{#instances}} {{id}}{{/instances}}\n{{/services}}' > "$T/all.mustache"
# the same services named one by one: no `services` watch
for i in $(seq 1 $N); do printf 's%d:{{#service.s%d}} {{id}}{{/service.s%d}}\n' "$i" "$i" "$i"; done > "$T/named.mustache"
cp "$T/all.mustache" "$T/t.mustache"
printf 'template {\n  source = "%s"\n  destination = "%s"\n}\n' \
	"$T/t.mustache" "$T/out" > "$T/legate.hcl"
sp=$(lg_ports 1)
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -config "$T/legate.hcl" \
	-max-connections 8 -status-addr "127.0.0.1:$sp" -log-level debug
pid=$LG_LAST_PID
lg_wait 20 "every service in the file" grep -q "^s$N: s$N-a\$" "$T/out"

watches() { curl -sf "http://127.0.0.1:$sp/status" | python3 -c '
import json, sys
for w in json.load(sys.stdin)["watches"]:
    print(w["name"], w["mode"])'; }
# services_gets: the services lists asked for so far.
services_gets() { grep -c "GET http://$CONSUL_HTTP_ADDR/v1/catalog/services" "$T/legate.log" || true; }
# change C NODE: a new instance of s$N (far beyond the slots) on NODE.
change() {
	lg_consul PUT /v1/catalog/register "{\"Node\":\"$2\",\"Address\":\"10.1.0.2\",\"Service\":{\"ID\":\"new-$1\",\"Service\":\"s$N\",\"Port\":$((30000 + $1))}}" > /dev/null
	lg_wait 20 "new-$1 in the file" grep -qE "^s$N:.* new-$1( |\$)" "$T/out"
}

# 1. The services watch is the trigger.
watches > "$T/w1"
grep -q '^services long-poll$' "$T/w1" || lg_fail "no services long-poll: $(head -5 "$T/w1")"
grep -q '^trigger:catalog ' "$T/w1" && lg_fail "a catalog trigger beside the services watch"
grep -q "^service.s$N triggered\$" "$T/w1" || lg_fail "service.s$N is not beyond the slots"
grep -q 'services: serves as the catalog trigger' "$T/legate.log" || lg_fail "no trigger twin logged"
sleep 1
g0=$(services_gets)
for c in 1 2 3; do change "$c" node-a; sleep 0.5; done
g=$(($(services_gets) - g0))
lg_log "3 changes: $g services lists asked for"
# one blocking call a change (two when a change falls in the spacing);
# a trigger of its own beside it would make it six or more
[ "$g" -le 5 ] || lg_fail "3 changes asked for $g services lists"

# 2. A reload drops `services`: a trigger of legate's own takes over.
cp "$T/named.mustache" "$T/t.mustache"
kill -HUP "$pid"
lg_wait 20 "the named template rendered" grep -q "^s$N: s$N-a new-1 new-2 new-3\$" "$T/out"
lg_wait 20 "trigger:catalog back" sh -c "curl -sf 'http://127.0.0.1:$sp/status' | grep -q '\"trigger:catalog\"'"
watches | grep -q '^services ' && lg_fail "the services watch outlived its template"
for c in 4 5; do change "$c" node-b; done
# a deregistration too
lg_consul PUT /v1/catalog/deregister '{"Node":"node-b","ServiceID":"new-4"}' > /dev/null
lg_wait 20 "new-4 gone" sh -c "! grep -q ' new-4' '$T/out'"

# 3. `services` back: changes still arrive.
cp "$T/all.mustache" "$T/t.mustache"
kill -HUP "$pid"
lg_wait 20 "the services template rendered" grep -q "^s$N: s$N-a new-1 new-2 new-3 new-5\$" "$T/out"
change 6 node-a
lg_alive "$pid" || lg_fail "legate exited"
curl -sf -o /dev/null "http://127.0.0.1:$sp/health" || lg_fail "/health is not 200"
grep -q 'Sanitizer' "$T/legate.log" && lg_fail "sanitizer report"
echo ok
