# The ACL token travels as X-Consul-Token: with a default-deny agent, a
# watcher without the token sees nothing, one with it sees the catalog.
# Stale reads are asked for when configured.
# legate-test: timeout=90
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

TOKEN=legate-root-token
LG_CONSUL_TOKEN=$TOKEN
# 1.11 renamed acl.tokens.master (still read, with a warning).
master=master
lg_consul_at_least 1.11 && master=initial_management
lg_start_consul -hcl "acl { enabled = true default_policy = \"deny\" tokens { $master = \"$TOKEN\" agent = \"$TOKEN\" } }"
curl -sSf -X PUT -H "X-Consul-Token: $TOKEN" "http://$CONSUL_HTTP_ADDR/v1/agent/service/register" \
	--data-binary '{"ID":"web1","Name":"web","Address":"127.0.0.1","Port":8081}'
lg_wait 10 "web registered" sh -c \
	"curl -sf -H 'X-Consul-Token: $TOKEN' http://$CONSUL_HTTP_ADDR/v1/catalog/services | grep -q web"

wl_watchctl -consul-addr "$CONSUL_HTTP_ADDR" -log-level debug services
wl_wait_line 'services []'
kill -TERM "$WPID"
wait "$WPID" || lg_fail "watchctl exited $?"
mv "$T/watchctl.log" "$T/anonymous.log"

wl_watchctl -consul-addr "$CONSUL_HTTP_ADDR" -consul-token "$TOKEN" -stale -log-level debug \
	services service.web
wl_wait_line 'services [{"name":"consul","tags":[]},{"name":"web","tags":[]}]'
wl_wait_ids service.web "web1"
grep -q 'GET .*/v1/catalog/services?stale=' "$T/watchctl.log" || lg_fail "no stale read asked for"
grep -q "$TOKEN" "$T/watchctl.log" && lg_fail "the token was logged"
kill -TERM "$WPID"
wait "$WPID" || lg_fail "watchctl exited $?"
grep -q 'Sanitizer' "$T/watchctl.log" "$T/anonymous.log" && lg_fail "sanitizer report"
echo ok
