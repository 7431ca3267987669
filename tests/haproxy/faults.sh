# legate-test: timeout=240
# The HAProxy driver when HAProxy does not go along, each case checked in
# /health, /status and in what HAProxy runs:
#   - a runtime change HAProxy refuses (a static-rr backend takes no new
#     server at run time): a confirmed reload instead;
#   - a reload HAProxy refuses (a port taken; "haproxy -c" cannot see it):
#     503 naming the refusal, the old workers keep serving, and all is well
#     once the file is good again;
#   - HAProxy changed behind legate's back (a server deleted through the
#     CLI): the audit notices and a reload repairs it;
#   - the master not answering (HAProxy stopped): 503; started again on an
#     old file: legate reloads it onto the installed one.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/haproxy/stack.bash"

lg_start_consul
lg_start_nginx web1; p1=$NGINX_PORT
lg_start_nginx web2; p2=$NGINX_PORT
lg_start_nginx busy; busy=$NGINX_PORT
read -r FRONT STATUS <<< "$(lg_ports 2)"
STACK_MASTER=$T/master.sock
STACK_STATUS=127.0.0.1:$STATUS
CFG=$T/haproxy.cfg

cat > "$T/t.mustache" <<TPL
global
	stats socket $T/admin.sock mode 600 level admin
defaults
	mode http
	timeout connect 1s
	timeout client 5s
	timeout server 5s
frontend f
	bind 127.0.0.1:$FRONT
	default_backend web
backend web
	balance {{#key.balance}}{{.}}{{/key.balance}}{{^key.balance}}roundrobin{{/key.balance}}
{{#service.web}}
	server {{id}} {{address}}:{{port}}
{{/service.web}}
{{#key.extra_port}}
listen extra
	bind 127.0.0.1:{{.}}
	server s 127.0.0.1:9
{{/key.extra_port}}
TPL
cat > "$T/legate.hcl" <<HCL
template {
  source      = "$T/t.mustache"
  destination = "$CFG"
  check       = "haproxy -c -q -f {{.src}}"
  haproxy {
    master_socket  = "$STACK_MASTER"
    audit_interval = "500ms"
    reload_timeout = "10s"
  }
}
HCL
# HAProxy first, on a file of its own: legate finds it running.
cat > "$CFG" <<OLD
global
	stats socket $T/admin.sock mode 600 level admin
defaults
	mode http
	timeout connect 1s
	timeout client 5s
	timeout server 5s
frontend f
	bind 127.0.0.1:$FRONT
	default_backend web
backend web
OLD
cp "$CFG" "$T/old.cfg"
start_haproxy() {
	lg_bg haproxy haproxy -W -db -f "$1" -S "$STACK_MASTER"
	HAPROXY_PID=$LG_LAST_PID
	lg_wait 10 "haproxy's master CLI" sh -c "echo 'show proc' | $LEGATE_TOOLS/unixsock $STACK_MASTER | grep -q master"
}
start_haproxy "$CFG"
lg_register_web web1 "$p1"
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -config "$T/legate.hcl" \
	-status-addr "$STACK_STATUS" -log-level debug
LEGATE_PID=$LG_LAST_PID

status() { curl -s "http://$STACK_STATUS/status"; }
field() { status | lg_compact | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2; }
healthy() { curl -sf "http://$STACK_STATUS/health" | lg_grepq -x ok; }
in_sync() { [ "$(lg_stack_servers web)" = "$(lg_consul_passing web)" ]; }
served() { curl -sf "http://127.0.0.1:$FRONT/" | lg_grepq -x "$1"; }

lg_wait 15 "legate healthy" healthy
lg_wait 5 "web1 served" served web1
in_sync || lg_fail "servers differ after start"
echo "# started: $(field reloads) reload(s), $(field runtime_applies) runtime change(s)"

# --- a runtime change HAProxy refuses ----------------------------------------
lg_consul PUT /v1/kv/balance static-rr > /dev/null
lg_wait 10 "static-rr reloaded" sh -c "echo '@1 show backend' | $LEGATE_TOOLS/unixsock $STACK_MASTER | grep -qx web && [ \$(curl -s http://$STACK_STATUS/status | tr -d ' \n' | grep -o '\"reloads_confirmed\":[0-9]*' | cut -d: -f2) -ge 2 ]"
lg_wait 10 "healthy after the reload" healthy
fb0=$(field runtime_fallbacks)
lg_register_web web2 "$p2"
lg_wait 10 "web2 in HAProxy" in_sync
lg_wait 10 "healthy again" healthy
fb=$(( $(field runtime_fallbacks) - fb0 ))
echo "# static-rr: the runtime API refused $fb change(s); HAProxy runs [$(lg_stack_servers web | tr '\n' ' ')]"
[ "$fb" -ge 1 ] || lg_fail "no runtime change was refused (static-rr should refuse add server)"
grep -q "refused a runtime change" "$T/legate.log" || lg_fail "the refusal was not logged"
lg_consul DELETE /v1/kv/balance > /dev/null

# --- a reload HAProxy refuses -------------------------------------------------
lg_wait 10 "roundrobin again" healthy
failures0=$(field reload_failures)
lg_consul PUT /v1/kv/extra_port "$busy" > /dev/null
lg_wait 40 "a refused reload" sh -c "[ \$(curl -s http://$STACK_STATUS/status | tr -d ' \n' | grep -o '\"reload_failures\":[0-9]*' | head -n 1 | cut -d: -f2) -gt $failures0 ]"
code=$(curl -s -o "$T/health" -w '%{http_code}' "http://$STACK_STATUS/health")
echo "# refused reload: /health $code: $(head -n 1 "$T/health")"
[ "$code" = 503 ] || lg_fail "/health answered $code while HAProxy refused the file"
grep -q "refused the new configuration" "$T/health" || lg_fail "/health does not say why: $(cat "$T/health")"
served web1 || served web2 || lg_fail "the old workers stopped serving"
lg_consul DELETE /v1/kv/extra_port > /dev/null
lg_wait 15 "healthy once the file is good again" healthy

# --- HAProxy changed behind legate's back ---------------------------------------
d0=$(field divergences)
echo "@1 set server web/web1 state maint; @1 del server web/web1" | "$LEGATE_TOOLS/unixsock" "$STACK_MASTER" > /dev/null
lg_wait 10 "the audit to repair web/web1" sh -c "[ \$(curl -s http://$STACK_STATUS/status | tr -d ' \n' | grep -o '\"divergences\":[0-9]*' | cut -d: -f2) -gt $d0 ]"
lg_wait 10 "in sync after the repair" in_sync
lg_wait 10 "healthy after the repair" healthy
grep -q "HAProxy differs from the file" "$T/legate.log" || lg_fail "the divergence was not logged"

# --- the master not answering, then HAProxy started again -------------------------
kill -TERM "$HAPROXY_PID"
wait "$HAPROXY_PID" || true
lg_wait 10 "503 while HAProxy is down" sh -c "! curl -sf http://$STACK_STATUS/health"
curl -s "http://$STACK_STATUS/health" | lg_grepq "does not answer" || lg_fail "/health does not say the master is gone: $(curl -s "http://$STACK_STATUS/health")"
start_haproxy "$CFG"
lg_wait 15 "HAProxy on the installed file" in_sync
lg_wait 10 "healthy with the new master" healthy
grep -q "HAProxy was started again" "$T/legate.log" || lg_fail "the new master was not noticed"

# --- the file overwritten behind legate's back, HAProxy restarted on it ------------
kill -TERM "$HAPROXY_PID"
wait "$HAPROXY_PID" || true
cp "$T/old.cfg" "$CFG"
start_haproxy "$CFG"
lg_wait 15 "legate to write its file again" sh -c "grep -q 'server web1' $CFG"
lg_wait 15 "HAProxy on legate's file again" in_sync
lg_wait 10 "healthy after the rewrite" healthy
grep -q "no longer holds what legate installed" "$T/legate.log" || lg_fail "the rewrite was not logged"
lg_alive "$LEGATE_PID" || lg_fail "legate exited"
echo "# end: $(field reloads) reloads, $(field reload_failures) refused, $(field runtime_fallbacks) runtime fallbacks, $(field divergences) divergence(s) repaired"
