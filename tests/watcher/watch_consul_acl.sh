# The ACL token travels as X-Consul-Token: with a default-deny agent, a
# watcher without the token sees nothing, one with it sees the catalog.
# Stale reads are asked for when configured.
# legate-test: timeout=90
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

TOKEN=legate-root-token
read -r -a p <<< "$(lg_ports 5)"
CONSUL_HTTP_ADDR=127.0.0.1:${p[0]}
lg_bg consul consul agent -dev -node=legate-test -bind=127.0.0.1 -client=127.0.0.1 \
	-http-port="${p[0]}" -dns-port="${p[1]}" -serf-lan-port="${p[2]}" -serf-wan-port="${p[3]}" \
	-server-port="${p[4]}" -grpc-port=-1 -log-level=warn \
	-hcl "acl { enabled = true default_policy = \"deny\" tokens { master = \"$TOKEN\" agent = \"$TOKEN\" } }"
lg_wait 30 "consul with ACLs" sh -c \
	"curl -sf -H 'X-Consul-Token: $TOKEN' http://$CONSUL_HTTP_ADDR/v1/catalog/nodes | grep -q legate-test"
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
