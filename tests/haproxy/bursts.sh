# legate-test: timeout=300
# Bursts of registrations and deregistrations, 10-400 ms apart, through the
# image's own files (compose/init.conf, compose/legate.hcl, the shipped
# template), as `make demo` runs them.  After each burst HAProxy's running
# servers (not in maintenance) must equal Consul's passing instances within
# 1 s.  A burst of membership changes alone must cost no reload; a burst
# that also brings a new service (a new backend) or takes one away costs
# exactly one, confirmed by the master's reload counter.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/haproxy/stack.bash"

BURSTS=${LEGATE_BURSTS:-12}
N=6

lg_start_consul
declare -A port
for ((n = 1; n <= N; n++)); do
	lg_start_nginx "web$n"
	port[$n]=$NGINX_PORT
done
lg_register_web web1 "${port[1]}"
lg_stack_start
lg_wait 10 "web1 through HAProxy" sh -c "curl -sf http://$STACK_HTTP/ | grep -qx web1"

# in_sync: HAProxy's servers in backend web equal Consul's passing instances.
in_sync() {
	[ "$(lg_stack_servers web)" = "$(lg_consul_passing web)" ]
}

# settle: waits up to 1 s (polled every 20 ms) for in_sync; prints the ms.
settle() {
	local start=$(date +%s%N) ms
	while :; do
		ms=$(( ($(date +%s%N) - start) / 1000000 ))
		in_sync && { echo "$ms"; return 0; }
		[ "$ms" -ge 1000 ] && return 1
		sleep 0.02
	done
}

# A random pause of 10-400 ms.
pause() { sleep "0.$(printf '%03d' $((10 + RANDOM % 391)))"; }

# flip: registers a random backend that is not registered, or deregisters
# one that is (web1 always stays).
declare -A on=([1]=1)
flip() {
	local k=$((2 + RANDOM % (N - 1)))
	if [ -n "${on[$k]:-}" ]; then
		lg_consul_deregister "web$k" > /dev/null
		unset "on[$k]"
	else
		lg_register_web "web$k" "${port[$k]}"
		on[$k]=1
	fi
}

api=0
for ((b = 1; b <= BURSTS; b++)); do
	m0=$(lg_stack_master_reloads)
	c0=$(lg_stack_confirmed)
	structural=$((b % 3 == 0))
	changes=$((3 + RANDOM % 6))
	for ((i = 1; i <= changes; i++)); do
		flip
		if [ "$structural" = 1 ] && [ "$i" = 2 ]; then
			# a new service, or the one added before goes: a new or gone backend
			if [ "$api" = 0 ]; then
				lg_consul_register api1 api "${port[1]}" '["haproxy"]' > /dev/null
				api=1
			else
				lg_consul_deregister api1 > /dev/null
				api=0
			fi
		fi
		pause
	done
	ms=$(settle) || lg_fail "burst $b: HAProxy runs [$(lg_stack_servers web | tr '\n' ' ')], Consul passes [$(lg_consul_passing web | tr '\n' ' ')] 1 s after the burst"
	want=$structural
	if [ "$structural" = 1 ]; then
		# the reload waits out the template's quiescence: give it time to be confirmed
		lg_wait 10 "burst $b: its reload confirmed" sh -c "[ \$(curl -sf http://$STACK_STATUS/metrics | awk '\$1 ~ /^legate_haproxy_reloads_confirmed_total/ { s += \$2 } END { print s + 0 }') -ge $((c0 + 1)) ]"
		lg_wait 5 "burst $b: backend api $([ $api = 1 ] && echo present || echo gone)" sh -c \
			"echo '@1 show stat' | $LEGATE_TOOLS/unixsock $STACK_MASTER | grep -c '^api,BACKEND' | grep -qx $api"
	fi
	sleep 0.3   # anything late would show now
	in_sync || lg_fail "burst $b: out of sync after it had settled"
	m=$(( $(lg_stack_master_reloads) - m0 ))
	c=$(( $(lg_stack_confirmed) - c0 ))
	echo "# burst $b: $changes membership changes$([ "$structural" = 1 ] && echo " and a service $([ $api = 1 ] && echo added || echo removed)"), in sync ${ms} ms after the last; master reloads $m, confirmed by legate $c"
	[ "$m" = "$want" ] || lg_fail "burst $b cost $m master reloads, want $want"
	[ "$c" = "$want" ] || lg_fail "burst $b: legate confirmed $c reloads, want $want"
done
curl -sf "http://$STACK_STATUS/health" | lg_grepq -x ok || lg_fail "/health: $(curl -s "http://$STACK_STATUS/health")"
applies=$(lg_stack_applies)
echo "# $BURSTS bursts: $applies changes applied through the runtime API"
[ "$applies" -gt 0 ] || lg_fail "no change went through the runtime API"
lg_alive "$STACK_PID" || lg_fail "legate-init exited"
