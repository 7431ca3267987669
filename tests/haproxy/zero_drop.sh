# legate-test: serial
# legate-test: timeout=240
# Zero dropped requests across 50 reloads: the shipped init.conf, legate.hcl
# and haproxy template run on loopback (legate-init -> legate + haproxy -W)
# while wrk sends traffic through HAProxy and a loop registers and
# deregisters a second service (a backend of its own, so each change is a
# structural one: a reload) 50 times.  wrk must see no non-2xx answer and no
# socket error, and the master must never list more than a few old workers.
# (Changes to the servers of a backend need no reload: tests/haproxy/membership.sh.)
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/haproxy/stack.bash"

CHANGES=${LEGATE_ZERO_DROP_CHANGES:-50}
MAX_OLD=5          # mworker-max-reloads in the template
LIMIT=120         # wrk stops at the end of the changes, at the latest here

command -v wrk > /dev/null || lg_skip "wrk is not installed"

lg_start_consul
declare -A port
for n in 1 2 3; do
	lg_start_nginx "web$n"
	port[$n]=$NGINX_PORT
done
lg_register_web web1 "${port[1]}"
lg_register_web web2 "${port[2]}"
lg_stack_start
lg_wait 10 "web through HAProxy" sh -c "curl -sf http://$STACK_HTTP/ | grep -q '^web[12]\$'"
m0=$(lg_stack_master_reloads)

# The old-worker count, sampled every 50 ms until $T/sampler.stop exists.
# (lg_stack_old_workers is not retried: a sampler still waiting on a master
# that has gone would outlive the test.)
sampler() {
	local max=0 n
	while [ ! -e "$T/sampler.stop" ]; do
		n=$(lg_stack_old_workers 2>/dev/null || true)
		if [ -n "$n" ] && [ "$n" -gt "$max" ]; then
			max=$n
			echo "$max" > "$T/max_old"
		fi
		sleep 0.05
	done
}
echo 0 > "$T/max_old"
lg_bg sampler sampler
SAMPLER_PID=$LG_LAST_PID

# Each request on a connection of its own: what a reload must not lose is
# a connection, and here every request is one.  (With keep-alive, HAProxy 2.6
# closes the connections that are idle when a reload stops the old worker; a
# client that sends its next request at that very moment sees the close.
# Browsers and HTTP libraries retry such a request, wrk counts a read error.
# LEGATE_ZERO_DROP_KEEPALIVE=1 measures that case; it is reported, not failed.)
keepalive=${LEGATE_ZERO_DROP_KEEPALIVE:-0}
hdr=(-H "Connection: close")
[ "$keepalive" = 1 ] && hdr=()
lg_bg wrk wrk -t2 -c20 -d"${LIMIT}s" --timeout 5s "${hdr[@]}" "http://$STACK_HTTP/"
WRK_PID=$LG_LAST_PID
sleep 1

# stack_reloaded R M: legate's driver has seen R reloads confirmed and the
# master has reloaded M times.
stack_reloaded() {
	local r m
	r=$(lg_stack_confirmed) && m=$(lg_stack_master_reloads) &&
		[ -n "$m" ] && [ "$r" -ge "$1" ] && [ "$m" -ge "$2" ]
}
r0=$(lg_stack_confirmed)

# Each change adds or removes the service api (its own backend) and waits
# for its reload, so every change is one reload of its own.
start=$(date +%s%N)
for ((i = 1; i <= CHANGES; i++)); do
	if ((i % 2)); then
		lg_consul_register api1 api "${port[3]}" '["haproxy"]' > /dev/null
	else
		lg_consul_deregister api1 > /dev/null
	fi
	lg_wait 10 "reload $i" stack_reloaded "$((r0 + i))" "$((m0 + i))"
done
loop_ms=$(( ($(date +%s%N) - start) / 1000000 ))
lg_alive "$WRK_PID" || lg_fail "wrk ended before the $CHANGES changes were done (${loop_ms} ms)"
# One more second of traffic after the last reload, then wrk prints its
# summary on SIGINT.
sleep 1
kill -INT "$WRK_PID"
wait "$WRK_PID" || lg_fail "wrk exited $?"
touch "$T/sampler.stop"
wait "$SAMPLER_PID" || true

reloads=$(( $(lg_stack_confirmed) - r0 ))
master=$(( $(lg_stack_master_reloads) - m0 ))
max_old=$(cat "$T/max_old")
requests=$(awk '/requests in/ { print $1 }' "$T/wrk.log")
non2xx=$(awk -F': ' '/Non-2xx/ { print $2 }' "$T/wrk.log")
sockerr=$(sed -n 's/.*Socket errors: \(.*\)/\1/p' "$T/wrk.log")
sed 's/^/# wrk: /' "$T/wrk.log"
echo "# $CHANGES changes in ${loop_ms} ms; legate confirmed $reloads reloads, the master counted $master;" \
	"$requests requests, non-2xx: ${non2xx:-0}, socket errors: ${sockerr:-none}; at most $max_old old workers"

[ -n "$requests" ] && [ "$requests" -gt 0 ] || lg_fail "wrk sent no request"
if [ "$keepalive" = 1 ]; then
	echo "# keep-alive run: errors reported, not failed"
else
	[ -z "$non2xx" ] || lg_fail "$non2xx answers were not 2xx"
	[ -z "$sockerr" ] || lg_fail "socket errors: $sockerr"
fi
[ "$reloads" -ge "$CHANGES" ] || lg_fail "only $reloads reloads for $CHANGES changes"
[ "$master" -ge "$CHANGES" ] || lg_fail "the master reloaded only $master times"
[ "$max_old" -le "$MAX_OLD" ] || lg_fail "$max_old old workers at once (bound: $MAX_OLD)"
lg_alive "$STACK_PID" || lg_fail "legate-init exited"
