# legate-test: serial
# legate-test: timeout=240
# A backend that vanishes before its deregistration (a container killed,
# registrator late) costs no request: with wrk running through HAProxy (a
# connection per request, and keep-alive), one nginx is SIGKILLed, its
# deregistration reaches Consul a second later.  The shipped template
# retries a refused connection on another server (retry-on, redispatch 1)
# and marks the server down on its first connection error (observe layer4),
# so neither wrk may see a non-2xx answer or a socket error.  Three rounds.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/haproxy/stack.bash"

ROUNDS=3
command -v wrk > /dev/null || lg_skip "wrk is not installed"

lg_start_consul
lg_start_nginx keep
lg_register_web keep "$NGINX_PORT"
lg_stack_start

lg_bg wrk-keepalive wrk -t1 -c8 -d200s --timeout 5s "http://$STACK_HTTP/"
WRK_KA=$LG_LAST_PID
lg_bg wrk-close wrk -t1 -c8 -d200s --timeout 5s -H "Connection: close" "http://$STACK_HTTP/"
WRK_CL=$LG_LAST_PID

for ((r = 1; r <= ROUNDS; r++)); do
	lg_start_nginx "doomed$r"
	lg_register_web "doomed$r" "$NGINX_PORT"
	lg_wait 10 "doomed$r serving" sh -c "for i in 1 2 3 4 5 6; do curl -s http://$STACK_HTTP/; done | grep -qx doomed$r"
	sleep 1
	# SIGKILL the whole nginx: the master first (so it cannot start a new
	# worker), then its worker.  The port refuses at once.
	workers=$(pgrep -P "$NGINX_PID" || true)
	kill -KILL "$NGINX_PID"
	[ -z "$workers" ] || kill -KILL $workers
	sleep 1
	lg_consul_deregister "doomed$r" > /dev/null
	lg_wait 5 "doomed$r gone from HAProxy" sh -c "! echo '@1 show servers state web' | $LEGATE_TOOLS/unixsock $STACK_MASTER | grep -q ' doomed$r '"
	sleep 0.5
done
kill -INT "$WRK_KA" "$WRK_CL"
wait "$WRK_KA" || lg_fail "wrk (keep-alive) exited $?"
wait "$WRK_CL" || lg_fail "wrk (close) exited $?"

for run in keepalive close; do
	log=$T/wrk-$run.log
	requests=$(awk '/requests in/ { print $1 }' "$log")
	non2xx=$(awk -F': ' '/Non-2xx/ { print $2 }' "$log")
	sockerr=$(sed -n 's/.*Socket errors: \(.*\)/\1/p' "$log")
	echo "# wrk $run: $requests requests, non-2xx: ${non2xx:-0}, socket errors: ${sockerr:-none}"
	[ -n "$requests" ] && [ "$requests" -gt 0 ] || lg_fail "wrk $run sent no request"
	[ -z "$non2xx" ] || lg_fail "wrk $run: $non2xx answers were not 2xx"
	[ -z "$sockerr" ] || lg_fail "wrk $run: socket errors: $sockerr"
done
lg_alive "$STACK_PID" || lg_fail "legate-init exited"
