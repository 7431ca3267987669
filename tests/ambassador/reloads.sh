# legate ambassador's changes as HAProxy sees them, counted by the
# master's own reload counter ("show proc"): a backend that moves, joins
# or leaves costs no reload (HAProxy's runtime API), IPv6 backends
# included; a forward gaining its first backend or losing its last (a
# listen section added or removed) costs exactly one, as does a backend
# given by host name (HAProxy 2.6 does not resolve names of servers added
# at run time).
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

lg_start_consul
kv_put() { lg_consul PUT "/v1/kv/$1" "$2" >/dev/null; }
kv_del() { lg_consul DELETE "/v1/kv/$1" >/dev/null; }
lg_start_nginx alpha
A=$NGINX_PORT
lg_start_nginx beta
B=$NGINX_PORT
V6=
if ip -6 addr show dev lo 2>/dev/null | lg_grepq 'inet6 ::1/128'; then
	lg_start_nginx gamma '[::1]'
	V6=$NGINX_PORT
fi
P=$(lg_ports 1)

# reloads: the master's reload counter.
# (empty while the master re-executes and does not answer)
reloads() {
	{ printf 'show proc\n' | "$LEGATE_TOOLS/unixsock" "$T/run/master.sock" 2>/dev/null || true; } |
		awk '$2 == "master" { print $3 }'
}
# expect_reloads N WHAT: the counter reaches N within 10 s, and is still N
# a second later (a late or repeated reload would move it past N).
expect_reloads() {
	local i n
	for ((i = 0; i < 100; i++)); do
		n=$(reloads)
		[ "$n" = "$1" ] && break
		sleep 0.1
	done
	sleep 1
	for ((i = 0; i < 50; i++)); do
		n=$(reloads)
		[ -n "$n" ] && break
		sleep 0.1
	done
	[ "$n" = "$1" ] || lg_fail "$2: the master's reload counter is $n, expected $1"
	echo "$2: reload counter $n"
}

kv_put svc/a "127.0.0.1:$A"
amb_start --log-level debug --listen "127.0.0.1:$P" "consul://$CONSUL_HTTP_ADDR/svc"
amb_expect "$P" alpha
expect_reloads 0 "HAProxy started on the first config"

# Backends move, join and leave: the runtime API, no reload.
t0=$(amb_now_ms); kv_put svc/a "127.0.0.1:$B"
amb_switched "$P" beta "$t0"
kv_put svc/b "127.0.0.1:$A"
amb_both "$P" alpha beta
t0=$(amb_now_ms); kv_del svc/a
amb_only "$P" alpha "$t0"
if [ -n "$V6" ]; then
	# once the server that left is deleted, a new one is added (not revived)
	lg_wait 10 "the removed server deleted" grep -q 'drained and deleted' "$T/ambassador.log"
	kv_put svc/c "[::1]:$V6"
	amb_both "$P" alpha gamma
	t0=$(amb_now_ms); kv_del svc/b
	amb_only "$P" gamma "$t0"
	t0=$(amb_now_ms); kv_put svc/c "127.0.0.1:$B"
	amb_switched "$P" beta "$t0"
	grep -q 'add server port_[0-9]*/s[0-9] ipv6@::1:' "$T/ambassador.log" ||
		lg_fail "the IPv6 backend was not added through the runtime API"
fi
expect_reloads 0 "backend changes"
grep -q 'through HAProxy.s runtime API' "$T/ambassador.log" || lg_fail "no runtime change logged"
amb_alive

# The last backend leaves: the listen section goes, one reload.
t0=$(amb_now_ms); lg_consul DELETE "/v1/kv/svc?recurse" >/dev/null
amb_refusing "$P" "$t0"
expect_reloads 1 "the last backend gone"
# The first backend again: one reload.
t0=$(amb_now_ms); kv_put svc/a "127.0.0.1:$A"
amb_switched "$P" alpha "$t0"
expect_reloads 2 "the first backend back"
# A host name: a reload, and HAProxy resolves it.
kv_put svc/b "localhost:$B"
amb_both "$P" alpha beta
expect_reloads 3 "a backend by host name"
grep -q 'reload needed: .*does not resolve names' "$T/ambassador.log" || lg_fail "the reason for the reload is not logged"
amb_alive
amb_stop
