# Through a client agent, as in most deployments: the watcher talks to a
# client joined to a server, not to the server itself.  Clients of Consul
# 1.10 and later answer blocking /v1/health/service queries from the
# streaming backend (X-Consul-Query-Backend: streaming), 1.8 forwards them
# to the server as blocking RPCs; the watcher must see the same story
# either way: registrations, a check flip, deregistrations, each once.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

lg_start_consul
lg_start_consul_client
C=http://$CONSUL_CLIENT_ADDR
reg() { curl -sSf -X PUT --data-binary "$1" "$C/v1/agent/service/register" > /dev/null; }

wl_watchctl -consul-addr "$CONSUL_CLIENT_ADDR" -wait 60 -log-level debug \
	service.web service.web~any services
# any N: waits until service.web~any has reported N times.  Each step
# below waits for both watches (two calls of their own) before the next
# write, so no step can be folded into the next on a busy machine.
any() { lg_wait 15 "change $1 of service.web~any" sh -c "[ \$(grep -c '^service.web~any ' '$OUT') -ge $1 ]"; }
wl_wait_line 'service.web []'
any 1

reg '{"ID":"web1","Name":"web","Address":"127.0.0.1","Port":8081}'
wl_wait_ids service.web "web1"
any 2
reg '{"ID":"web2","Name":"web","Address":"127.0.0.1","Port":8082,"Check":{"TTL":"600s"}}'
wl_wait_ids service.web~any "web1 web2"
curl -sSf -X PUT "$C/v1/agent/check/pass/service:web2" > /dev/null
wl_wait_ids service.web "web1 web2"
any 4
curl -sSf -X PUT "$C/v1/agent/check/fail/service:web2" > /dev/null
wl_wait_ids service.web "web1"
any 5
curl -sSf -X PUT "$C/v1/agent/service/deregister/web1" > /dev/null
wl_wait_ids service.web ""
wl_wait_ids service.web~any "web2"
curl -sSf -X PUT "$C/v1/agent/service/deregister/web2" > /dev/null
wl_wait_ids service.web~any ""

wl_expect_ids service.web "|web1|web1 web2|web1||"
wl_expect_ids service.web~any "|web1|web1 web2|web1 web2|web1 web2|web2||"
# The instances live on the client's node.
grep -q '^service.web .*"node":"legate-client"' "$OUT" || lg_fail "web1 not on legate-client"

# Which backend answered a blocking health query on this client.
idx=$(curl -sSf -D - -o /dev/null "$C/v1/health/service/web" | tr -d '\r' |
	sed -n 's/^X-Consul-Index: //Ip')
backend=$(curl -sSf -D - -o /dev/null "$C/v1/health/service/web?index=$idx&wait=1s" | tr -d '\r' |
	sed -n 's/^X-Consul-Query-Backend: //Ip')
lg_log "consul $LG_CONSUL_VERSION client: blocking health queries answered by: ${backend:-(no header)}"
if lg_consul_at_least 1.10; then
	[ "$backend" = streaming ] || lg_fail "consul $LG_CONSUL_VERSION client: backend '$backend', not streaming"
fi
grep -q 'watchctl: warn' "$T/watchctl.log" && lg_fail "unexpected warnings"
lg_alive "$WPID" || lg_fail "watchctl died"
echo ok
