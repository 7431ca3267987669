# legate-test: serial
# legate-test: timeout=300
# 100 membership changes under load, with no reload and no failed request:
# the shipped files on loopback, two wrk runs through HAProxy at once (one
# with keep-alive connections, one with a connection per request) while
# backends are registered and deregistered 100 times.  Each change goes
# through HAProxy's runtime API (a removed server drains, then goes); the
# master must not reload once; neither wrk may see a non-2xx answer or a
# socket error.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/haproxy/stack.bash"

CHANGES=${LEGATE_MEMBERSHIP_CHANGES:-100}
LIMIT=200

command -v wrk > /dev/null || lg_skip "wrk is not installed"

lg_start_consul
declare -A port
for n in 1 2 3 4; do
	lg_start_nginx "web$n"
	port[$n]=$NGINX_PORT
done
lg_register_web web1 "${port[1]}"
lg_register_web web2 "${port[2]}"
lg_stack_start
lg_wait 10 "web through HAProxy" sh -c "curl -sf http://$STACK_HTTP/ | grep -q '^web[12]\$'"
m0=$(lg_stack_master_reloads)
a0=$(lg_stack_applies)

lg_bg wrk-keepalive wrk -t1 -c10 -d"${LIMIT}s" --timeout 5s "http://$STACK_HTTP/"
WRK_KA=$LG_LAST_PID
lg_bg wrk-close wrk -t1 -c10 -d"${LIMIT}s" --timeout 5s -H "Connection: close" "http://$STACK_HTTP/"
WRK_CL=$LG_LAST_PID
sleep 1

applied() { [ "$(lg_stack_applies)" -ge "$1" ]; }

start=$(date +%s%N)
for ((i = 1; i <= CHANGES; i++)); do
	case $((i % 4)) in
	1) lg_register_web web3 "${port[3]}" ;;
	2) lg_register_web web4 "${port[4]}" ;;
	3) lg_consul_deregister web3 > /dev/null ;;
	0) lg_consul_deregister web4 > /dev/null ;;
	esac
	lg_wait 10 "change $i applied" applied "$((a0 + i))"
done
loop_ms=$(( ($(date +%s%N) - start) / 1000000 ))
lg_alive "$WRK_KA" && lg_alive "$WRK_CL" || lg_fail "wrk ended before the $CHANGES changes were done"
sleep 1
kill -INT "$WRK_KA" "$WRK_CL"
wait "$WRK_KA" || lg_fail "wrk (keep-alive) exited $?"
wait "$WRK_CL" || lg_fail "wrk (close) exited $?"

master=$(( $(lg_stack_master_reloads) - m0 ))
applies=$(( $(lg_stack_applies) - a0 ))
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
echo "# $CHANGES changes in ${loop_ms} ms: $applies applied through the runtime API, $master master reloads"
[ "$master" = 0 ] || lg_fail "the master reloaded $master times for membership changes"
[ "$(lg_stack_servers web)" = "$(lg_consul_passing web)" ] || lg_fail "HAProxy's servers differ from Consul's"
lg_alive "$STACK_PID" || lg_fail "legate-init exited"
