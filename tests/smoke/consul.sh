# Smoke: a Consul dev agent starts on free ports, its catalog answers, and a
# service registered through the agent API shows up in the catalog.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_consul
lg_consul GET /v1/status/leader | lg_grepq "127.0.0.1:$CONSUL_SERVER_PORT" ||
	lg_fail "leader is not on the moved server port $CONSUL_SERVER_PORT"
lg_consul_register web-1 web 8080 '["http"]' >/dev/null
lg_wait 10 "web in the catalog" sh -c "curl -sf http://$CONSUL_HTTP_ADDR/v1/catalog/services | grep -q '\"web\"'"
out=$(lg_consul GET /v1/catalog/service/web | lg_compact)
case $out in *'"ServiceID":"web-1"'*'"ServicePort":8080'*) ;; *) lg_fail "catalog entry: $out" ;; esac
# The DNS interface answers on its moved port too.
if command -v dig >/dev/null 2>&1; then
	dig +short -p "$CONSUL_DNS_PORT" @127.0.0.1 web.service.consul SRV | lg_grepq 8080 ||
		lg_fail "no SRV record for web on port $CONSUL_DNS_PORT"
fi
lg_consul_deregister web-1 >/dev/null
lg_wait 10 "web gone" sh -c "! curl -sf http://$CONSUL_HTTP_ADDR/v1/catalog/services | grep -q '\"web\"'"
