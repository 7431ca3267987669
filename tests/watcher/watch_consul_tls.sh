# TLS to Consul: the agent's HTTPS port wants a client certificate.  With
# the CA, certificate and key the watcher reads; without its CA it refuses
# the server (and retries, logged); the explicit insecure switch skips the
# server check.
# legate-test: timeout=90
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

mkdir -p "$T/tls"
(cd "$T/tls" && consul tls ca create > /dev/null && consul tls cert create -server -dc dc1 > /dev/null &&
	consul tls cert create -client -dc dc1 > /dev/null) || lg_fail "cannot make certificates"
CA=$T/tls/consul-agent-ca.pem
read -r -a p <<< "$(lg_ports 6)"
CONSUL_HTTP_ADDR=127.0.0.1:${p[0]}
HTTPS=https://127.0.0.1:${p[5]}
lg_bg consul consul agent -dev -node=legate-test -bind=127.0.0.1 -client=127.0.0.1 \
	-http-port="${p[0]}" -dns-port="${p[1]}" -serf-lan-port="${p[2]}" -serf-wan-port="${p[3]}" \
	-server-port="${p[4]}" -grpc-port=-1 -log-level=warn \
	-hcl "ports { https = ${p[5]} }" -hcl "ca_file = \"$CA\"" \
	-hcl "cert_file = \"$T/tls/dc1-server-consul-0.pem\"" \
	-hcl "key_file = \"$T/tls/dc1-server-consul-0-key.pem\"" -hcl "verify_incoming_https = true"
lg_wait 30 "consul" sh -c "curl -sf http://$CONSUL_HTTP_ADDR/v1/catalog/nodes | grep -q legate-test"
lg_consul_register web1 web 8081
CERT=(-cert-file "$T/tls/dc1-client-consul-0.pem" -key-file "$T/tls/dc1-client-consul-0-key.pem")

wl_watchctl -consul-addr "$HTTPS" -ca-file "$CA" "${CERT[@]}" service.web
wl_wait_ids service.web "web1"
kill -TERM "$WPID"; wait "$WPID" || lg_fail "watchctl exited $?"

# The system's CAs do not know this one: refused, retried, never data.
wl_watchctl -consul-addr "$HTTPS" "${CERT[@]}" -backoff-min 0.2 -backoff-max 0.5 service.web
lg_wait 15 "a certificate error" grep -q 'certificate.*retry 2' "$T/watchctl.log"
[ -s "$OUT" ] && lg_fail "data through an unverified server"
kill -TERM "$WPID"; wait "$WPID" || lg_fail "watchctl exited $?"

# Without a client certificate the agent refuses us.
wl_watchctl -consul-addr "$HTTPS" -ca-file "$CA" -backoff-min 0.2 -backoff-max 0.5 service.web
lg_wait 15 "a refused handshake" grep -q 'retry 2' "$T/watchctl.log"
grep -q 'alert\|SSL\|getpeername' "$T/watchctl.log" || lg_fail "failed for another reason"
[ -s "$OUT" ] && lg_fail "data without a client certificate"
kill -TERM "$WPID"; wait "$WPID" || lg_fail "watchctl exited $?"

wl_watchctl -consul-addr "$HTTPS" -insecure "${CERT[@]}" service.web
wl_wait_ids service.web "web1"
kill -TERM "$WPID"; wait "$WPID" || lg_fail "watchctl exited $?"
echo ok
