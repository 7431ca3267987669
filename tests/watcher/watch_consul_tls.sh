# TLS to Consul: the agent's HTTPS port wants a client certificate.  With
# the CA, certificate and key the watcher reads; without its CA it refuses
# the server (and retries, logged); the explicit insecure switch skips the
# server check.
# legate-test: timeout=90
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

lg_consul_bin
mkdir -p "$T/tls"
(cd "$T/tls" && "$LG_CONSUL" tls ca create > /dev/null && "$LG_CONSUL" tls cert create -server -dc dc1 > /dev/null &&
	"$LG_CONSUL" tls cert create -client -dc dc1 > /dev/null) || lg_fail "cannot make certificates"
CA=$T/tls/consul-agent-ca.pem
lg_pick_consul_ports 1
HTTPS=https://127.0.0.1:${LG_MORE_PORTS[0]}
FILES="ca_file = \"$CA\" cert_file = \"$T/tls/dc1-server-consul-0.pem\" key_file = \"$T/tls/dc1-server-consul-0-key.pem\""
LG_CONSUL_EXTRA=(-hcl "ports { https = ${LG_MORE_PORTS[0]} }")
# 1.12 moved the TLS keys into a tls block (the old ones are still read,
# with a warning).
if lg_consul_at_least 1.12; then
	LG_CONSUL_EXTRA+=(-hcl "tls { defaults { $FILES } https { verify_incoming = true } }")
else
	LG_CONSUL_EXTRA+=(-hcl "$FILES" -hcl "verify_incoming_https = true")
fi
lg_run_consul
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

# Without a client certificate the agent refuses us (with TLS 1.3 the refusal
# comes after the handshake: an alert, or a reset on a busy machine).
wl_watchctl -consul-addr "$HTTPS" -ca-file "$CA" -backoff-min 0.2 -backoff-max 0.5 service.web
lg_wait 15 "a refused handshake" grep -q 'retry 2' "$T/watchctl.log"
grep -q 'alert\|SSL\|getpeername\|reset by peer' "$T/watchctl.log" || lg_fail "failed for another reason: $(grep retry "$T/watchctl.log" | tail -n 2)"
[ -s "$OUT" ] && lg_fail "data without a client certificate"
kill -TERM "$WPID"; wait "$WPID" || lg_fail "watchctl exited $?"

wl_watchctl -consul-addr "$HTTPS" -insecure "${CERT[@]}" service.web
wl_wait_ids service.web "web1"
kill -TERM "$WPID"; wait "$WPID" || lg_fail "watchctl exited $?"
echo ok
