# The check command runs on the staged file: a config haproxy refuses is
# never installed, /health answers 503, and the next good value is
# installed.  A failing reload command is counted and legate keeps running.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_consul
sp=$(lg_ports 1)
fp=$(lg_ports 1)
cat > "$T/haproxy.mustache" <<TPL
global
	maxconn {{key.config/maxconn}}
defaults
	mode http
	timeout connect 1s
	timeout client 1s
	timeout server 1s
frontend fe
	bind 127.0.0.1:{{key.config/port}}
TPL
cat > "$T/legate.hcl" <<CFG
consul {
  address = "$CONSUL_HTTP_ADDR"
}
status_addr = "127.0.0.1:$sp"
template {
  source      = "$T/haproxy.mustache"
  destination = "$T/haproxy.cfg"
  check       = "haproxy -c -f {{.src}}"
  command     = ["sh", "-c", "echo reloaded >> $T/reloads; test ! -e $T/fail-reload"]
}
CFG
lg_consul PUT /v1/kv/config/maxconn 100 >/dev/null
lg_consul PUT /v1/kv/config/port "$fp" >/dev/null
lg_bg legate "$LEGATE_BIN/legate" -config "$T/legate.hcl"
LEGATE_PID=$LG_LAST_PID
lg_wait 10 "haproxy.cfg with maxconn 100" grep -q "maxconn 100" "$T/haproxy.cfg"
lg_wait 5 "/health 200" curl -sf "http://127.0.0.1:$sp/health"
[ "$(wc -l < "$T/reloads")" = 1 ] || lg_fail "expected one reload, got $(cat "$T/reloads")"

# A value haproxy refuses: the file keeps the last good config.
lg_consul PUT /v1/kv/config/port notaport >/dev/null
lg_wait 10 "check failure in the log" grep -q "check .* failed" "$T/legate.log"
grep -q notaport "$T/haproxy.cfg" && lg_fail "a refused config was installed"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$sp/health")
[ "$code" = 503 ] || lg_fail "/health answered $code after a failed check"
ls -A "$T" | lg_grepq '^\.haproxy.cfg.legate-' && lg_fail "a staged file was left behind"
[ "$(wc -l < "$T/reloads")" = 1 ] || lg_fail "a reload ran for a refused config"

lg_consul PUT /v1/kv/config/port "$fp" >/dev/null
lg_consul PUT /v1/kv/config/maxconn 200 >/dev/null
lg_wait 10 "maxconn 200 installed" grep -q "maxconn 200" "$T/haproxy.cfg"
lg_wait 5 "/health 200 again" curl -sf "http://127.0.0.1:$sp/health"

# A failing reload command: counted, logged, legate keeps running.
touch "$T/fail-reload"
lg_consul PUT /v1/kv/config/maxconn 300 >/dev/null
lg_wait 10 "maxconn 300 installed" grep -q "maxconn 300" "$T/haproxy.cfg"
lg_wait 5 "command failure counted" sh -c \
	"curl -sf http://127.0.0.1:$sp/metrics | grep -q 'legate_command_failures_total{.*} 1'"
lg_alive "$LEGATE_PID" || lg_fail "legate exited after a failed command"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$sp/health")
[ "$code" = 503 ] || lg_fail "/health answered $code after a failed command"
rm -f "$T/fail-reload"
lg_consul PUT /v1/kv/config/maxconn 400 >/dev/null
lg_wait 10 "/health 200 after a good reload" curl -sf "http://127.0.0.1:$sp/health"
# (Two watches may report a pair of changes apart: each render between them
# is checked too, so one or more failures are counted.)
curl -sf "http://127.0.0.1:$sp/status" | lg_grepq '"check_failures": [1-9]' || lg_fail "/status counts no check failure"
grep -q "check .* failed.*invalid character 'n' in port number" "$T/legate.log" ||
	lg_fail "the check's own message is not in the error"
