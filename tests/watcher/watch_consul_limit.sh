# Consul's per-client connection limit (limits.http_max_conns_per_client,
# 8 here): beyond it Consul 1.9 and later answer 429 ("Your IP is issuing
# too many concurrent connections"), 1.8 closes the connection without an
# answer.  Either way the watcher logs why, backs off, reports no false
# data, and reads once the limit frees up; long-polls it already holds go
# on across the limit.  Another client address (127.0.0.2) is not counted.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

LIMIT=8
lg_start_consul -hcl "limits { http_max_conns_per_client = $LIMIT }"
lg_consul_register web1 web 8081
if lg_consul_at_least 1.9; then
	WHY='HTTP 429: Your IP is issuing too many concurrent connections'
else
	WHY='Empty reply\|Connection reset\|Recv failure\|Server returned nothing'
fi

# The hog: a process holding LIMIT idle connections from 127.0.0.1 (not
# this shell, whose descriptors the watcher would inherit).
hog() {
	rm -f "$T/hogged"
	lg_bg hog bash -c 'for ((i = 0; i < $1; i++)); do exec {fd}<> "/dev/tcp/127.0.0.1/$2"; done
		touch "$3"; exec sleep 300' _ "$LIMIT" "$CONSUL_HTTP_PORT" "$T/hogged"
	HOG_PID=$LG_LAST_PID
	lg_wait 10 "$LIMIT connections held" test -e "$T/hogged"
}
unhog() {
	kill "$HOG_PID"
	wait "$HOG_PID" 2> /dev/null || true
}
# What the agent says to one more client from 127.0.0.1 (000: no answer).
probe() { curl -s -o /dev/null -w '%{http_code}' "http://$CONSUL_HTTP_ADDR/v1/status/leader" || true; }
# Calls from another client address, which has its own count.
other() { curl -sSf --interface 127.0.0.2 -X PUT --data-binary "$2" "http://$CONSUL_HTTP_ADDR$1" > /dev/null; }

# 1. No connection left when the watcher starts: refused, retried, no data.
hog
code=$(probe)
if lg_consul_at_least 1.9; then
	[ "$code" = 429 ] || lg_fail "consul $LG_CONSUL_VERSION answered $code beyond the limit, not 429"
else
	[ "$code" = 000 ] || lg_fail "consul $LG_CONSUL_VERSION answered $code beyond the limit, not nothing"
fi
wl_watchctl -consul-addr "$CONSUL_HTTP_ADDR" -wait 30 -backoff-min 0.2 -backoff-max 0.5 service.web
lg_wait 20 "two refused calls logged ($WHY)" sh -c "[ \$(grep -c -- '$WHY' '$T/watchctl.log') -ge 2 ]"
grep -q 'retry [0-9]* in' "$T/watchctl.log" || lg_fail "no backoff logged"
[ -s "$OUT" ] && lg_fail "data reported while every call was refused: $(cat "$OUT")"

# 2. The limit frees up: the watcher reads.
unhog
wl_wait_ids service.web "web1"

# 3. The watcher holds its long-poll; the rest of the limit is taken.  A
# change made from another address still reaches it, over the connection it
# already had.
lg_wait 10 "the watcher's long-poll" sh -c \
	"ss -Htn state established '( dport = :$CONSUL_HTTP_PORT )' | grep -q ."
hog
other /v1/agent/service/register '{"ID":"web2","Name":"web","Address":"127.0.0.1","Port":8082}'
wl_wait_ids service.web "web1 web2"
unhog
wl_expect_ids service.web "web1|web1 web2|"
lg_alive "$WPID" || lg_fail "watchctl died"
kill -TERM "$WPID"
wait "$WPID" || lg_fail "watchctl exited $?"
echo ok
