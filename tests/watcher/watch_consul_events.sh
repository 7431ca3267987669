# Register, deregister, flip a health check, put and delete keys: each is
# reported exactly once, in order, by the watches that see it.
# legate-test: timeout=90
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

lg_start_consul
wl_watchctl -consul-addr "$CONSUL_HTTP_ADDR" -wait 30 \
	-log-level debug service.web service.web~any services key.config/maxconn tree.config/ \
	service.web~tag=primary
wl_wait_line 'service.web []'
wl_wait_line 'key.config/maxconn null'
wl_wait_line 'tree.config/ []'

lg_consul_register web1 web 8081 '["primary"]'
wl_wait_ids service.web "web1"
lg_consul PUT /v1/agent/service/register \
	'{"ID":"web2","Name":"web","Address":"127.0.0.1","Port":8082,"Check":{"TTL":"600s"}}'
wl_wait_ids service.web~any "web1 web2"
lg_consul PUT /v1/agent/check/pass/service:web2
wl_wait_ids service.web "web1 web2"
lg_consul PUT /v1/agent/check/fail/service:web2
wl_wait_ids service.web "web1"
lg_consul_deregister web1
wl_wait_ids service.web ""
wl_wait_ids service.web~any "web2"
lg_consul_deregister web2
wl_wait_ids service.web~any ""

lg_consul PUT /v1/kv/config/maxconn 1000 >/dev/null
wl_wait_line 'key.config/maxconn "1000"'
lg_consul PUT /v1/kv/config/maxconn 2000 >/dev/null
wl_wait_line 'key.config/maxconn "2000"'
lg_consul PUT /v1/kv/config/other x >/dev/null
wl_wait_line 'tree.config/ [{"key":"maxconn","path":"config/maxconn","value":"2000"},{"key":"other","path":"config/other","value":"x"}]'
lg_consul DELETE /v1/kv/config/maxconn >/dev/null
wl_wait_line 'key.config/maxconn null'
sleep 1

# The whole story, watch by watch: one line per real change, in order.
wl_expect_ids service.web "|web1|web1 web2|web1||"
# web2 comes critical, then passes, then fails: three changes, same ids.
wl_expect_ids service.web~any "|web1|web1 web2|web1 web2|web1 web2|web2||"
wl_expect_ids service.web~tag=primary "|web1||"
# web's tags go from [primary] to [] when web1 leaves.
wl_expect_ids services "consul|consul web|consul web|consul|"
wl_expect_values key.config/maxconn 'null|"1000"|"2000"|null|'
[ "$(grep -c '^tree.config/ ' "$OUT")" = 5 ] || lg_fail "tree.config/ changed $(grep -c '^tree.config/ ' "$OUT") times, want 5"
# The check flip is reported with its status.
grep -q '^service.web~any .*"id":"web2".*"status":"critical"' "$OUT" || lg_fail "no critical web2"
 grep -q 'watchctl: warn' "$T/watchctl.log" && lg_fail "unexpected warnings"
lg_alive "$WPID" || lg_fail "watchctl died"
echo ok
