# A fault-injecting proxy between the watcher and Consul: 429, 500,
# garbage JSON, a truncated body, dropped connections and a stalled answer.
# The watcher backs off (visibly), keeps its last good data, never crashes,
# and picks up the next real change once the path is clean again.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

lg_start_consul
lg_consul_register web1 web 8081
wl_start_faultproxy "$CONSUL_HTTP_PORT" /v1/status/leader

wl_watchctl -consul-addr "127.0.0.1:$PROXY_PORT" -wait 2 -timeout 2 \
	-backoff-min 0.2 -backoff-max 1 service.web key.config/x
wl_wait_ids service.web "web1"
wl_wait_line 'key.config/x null'

# fault MODE LOGTEXT: switch the proxy, drop what is open, and wait for the
# watcher to log that failure at least twice (each time with its delay).
fault() {
	echo "$1" > "$MODE"
	kill -USR1 "$PROXY"
	lg_wait 20 "watcher to report '$2'" grep -q -- "$2" "$T/watchctl.log"
	lg_wait 20 "two retries after '$2'" sh -c "[ \$(grep -c -- '$2' '$T/watchctl.log') -ge 2 ]"
	lg_alive "$WPID" || lg_fail "watchctl died under $1"
}
fault 429 "HTTP 429"
fault 500 "HTTP 500"
fault garbage "malformed JSON"
fault truncate "transfer closed"
fault drop "Empty reply\|Connection reset\|Recv failure\|Server returned nothing"
fault stall "timed out"

# Backoff is capped (1 s here) and jittered: delays logged stay within it.
max=$(sed -n 's/.*; retry [0-9]* in \([0-9.]*\)s$/\1/p' "$T/watchctl.log" | sort -n | tail -1)
awk -v m="$max" 'BEGIN { exit !(m > 0 && m <= 1.0) }' || lg_fail "backoff delay $max outside (0, 1]"

echo pass > "$MODE"
kill -USR1 "$PROXY"
lg_consul_register web2 web 8082
wl_wait_ids service.web "web1 web2"
lg_consul PUT /v1/kv/config/x 7 > /dev/null
wl_wait_line 'key.config/x "7"'

# Through all of it, only the real changes were reported.
wl_expect_ids service.web "web1|web1 web2|"
wl_expect_values key.config/x 'null|"7"|'
kill -USR1 "$WPID"
lg_wait 5 "status line" grep -q '^status ' "$OUT"
grep '^status ' "$OUT" | lg_grepq '"errors":[1-9]' || lg_fail "status does not count errors"

# A clean stop (the sanitizer build reports leaks here).
kill -TERM "$WPID"
wait "$WPID" || lg_fail "watchctl exited $?"
grep -q 'Sanitizer' "$T/watchctl.log" && lg_fail "sanitizer report"
echo ok
