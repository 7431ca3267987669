# progrium/ambassadord's NAME form: DNS SRV records, here from Consul's DNS
# interface, resolved with c-ares and resolved again as they change.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

lg_start_consul
lg_start_nginx alpha
A=$NGINX_PORT
lg_start_nginx beta
B=$NGINX_PORT
P=$(lg_ports 1)
DNS=127.0.0.1:$CONSUL_DNS_PORT

lg_consul_register web1 web "$A" >/dev/null
"$LEGATE_BIN/legate" ambassador --print-config --dns "$DNS" web.service.consul > "$T/web.cfg"
grep -q '^    bind :10000$' "$T/web.cfg" || { cat "$T/web.cfg"; lg_fail "the SRV form does not listen on 10000"; }
grep -q "^    server s1 127.0.0.1:$A\$" "$T/web.cfg" || { cat "$T/web.cfg"; lg_fail "SRV target and port"; }

amb_start --dns "$DNS" --listen "127.0.0.1:$P" web.service.consul
amb_expect "$P" alpha
# The service moves: a new instance, the old one gone.
lg_consul_register web2 web "$B" >/dev/null
t0=$(amb_now_ms); lg_consul_deregister web1 >/dev/null
amb_only "$P" beta "$t0"
# A second instance: both reached.
lg_consul_register web3 web "$A" >/dev/null
amb_both "$P" alpha beta
# None left: refused at once; back: traffic again.
lg_consul_deregister web3 >/dev/null
t0=$(amb_now_ms); lg_consul_deregister web2 >/dev/null
amb_refusing "$P" "$t0"
t0=$(amb_now_ms); lg_consul_register web4 web "$B" >/dev/null
amb_switched "$P" beta "$t0"
# DNS down: the last answer stays.
lg_stop_consul
sleep 2
[ "$(amb_get "$P")" = beta ] || lg_fail "a DNS outage emptied the backends"
amb_alive
amb_stop
