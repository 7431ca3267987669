# A burst of 1,000 SIGHUPs keeps every watch's call in flight: the agent
# holds no more connections from legate than legate's cap (-max-connections,
# 32) during and after it, /health stays 200, and a registration made
# afterwards reaches the file.  Then reloads that each drop ten watches and
# add ten others: the dropped watches' blocking calls run to their end
# rather than being closed under the agent (which would keep its end open
# until the wait ran out), so the agent's side stays within the cap again.
# The agent's side is counted with ss on its port (lg_agent_conns).
# legate-test: timeout=240
. "$LEGATE_ROOT/tests/lib.sh"

CAP=32
lg_start_consul
for i in 1 2 3 4 5; do lg_consul_register "web-$i" "svc$i" $((9000 + i)) > /dev/null; done
cat > "$T/all.mustache" <<'TPL'
{{#services}}backend {{name}}
{{#instances}}  server {{id}} {{address}}:{{port}}
{{/instances}}{{/services}}
TPL
# Two templates naming ten services each, for the reloads that swap them.
for set in a b; do
	for i in $(seq 1 10); do printf '{{#service.%s%d}}%s%d {{port}}\n{{/service.%s%d}}' \
		$set "$i" $set "$i" $set "$i"; done > "$T/$set.mustache"
done
conf() {  # conf TEMPLATE...: legate.hcl with these templates (no fork)
	local t
	{
		for t in "$@"; do
			printf 'template {\n  source = "%s/%s.mustache"\n  destination = "%s/%s.cfg"\n}\n' \
				"$T" "$t" "$T" "$t"
		done
	} > "$T/legate.hcl"
}
conf all
sp=$(lg_ports 1)
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -config "$T/legate.hcl" \
	-status-addr "127.0.0.1:$sp" -max-connections $CAP
LEGATE_PID=$LG_LAST_PID
lg_wait 10 "all.cfg" grep -q "server web-5 " "$T/all.cfg"
metric() { curl -sf "http://127.0.0.1:$sp/metrics" | sed -n "s/^$1 \([0-9]*\)\$/\1/p"; }
health() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$sp/health"; }
lg_wait 5 "healthy" test "$(health)" = 200
before=$(lg_agent_conns "$CONSUL_HTTP_PORT")

# The agent's side, sampled through the burst: the peak is kept.
sample() {
	local peak=0 c
	while [ ! -e "$T/stop" ]; do
		c=$(lg_agent_conns "$CONSUL_HTTP_PORT")
		[ "$c" -gt "$peak" ] && peak=$c && echo "$peak" > "$T/peak"
		sleep 0.05
	done
}
echo 0 > "$T/peak"
sample &
SAMPLER=$!
LG_PIDS+=($SAMPLER)

# A few milliseconds apart, with no fork between two: each may be a reload.
mkfifo "$T/never"
exec 9<> "$T/never"
r0=$(metric legate_config_reloads_total)
for _ in $(seq 1 1000); do
	kill -HUP "$LEGATE_PID"
	read -r -t 0.002 -u 9 _ || true
done
# Signals sent together merge: wait until the reloads stop coming.
last=-1
for _ in $(seq 1 50); do
	sleep 0.2
	n=$(metric legate_config_reloads_total)
	[ "$n" = "$last" ] && break
	last=$n
done
lg_alive "$LEGATE_PID" || lg_fail "legate exited during the burst"
sleep 1
after=$(lg_agent_conns "$CONSUL_HTTP_PORT")
code=$(health)
touch "$T/stop"
wait "$SAMPLER" 2>/dev/null || true
peak=$(cat "$T/peak")
rm -f "$T/stop"
lg_log "1000 SIGHUPs: $((last - r0)) reloads; agent-side connections: $before before, peak $peak," \
	"$after after (cap $CAP); /health $code"
lg_consul_register late-1 late 9100 > /dev/null
t0=$(date +%s%N)
lg_wait 10 "a registration after the burst" grep -q "server late-1 " "$T/all.cfg"
lg_log "a registration made after the burst in the file after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
[ "$peak" -le $CAP ] || lg_fail "the agent held $peak connections during the burst (cap $CAP)"
# One short read (the leader poll) may hold a connection at either count.
[ "$after" -le $((before + 1)) ] || lg_fail "the agent holds $after connections after the burst, $before before"
[ "$code" = 200 ] || lg_fail "/health $code after the burst"

# Reloads that swap ten watches for ten others, each rendered before the
# next: 600 watches dropped in all, each with its blocking call out.
echo 0 > "$T/peak"
sample &
SAMPLER=$!
LG_PIDS+=($SAMPLER)
r0=$(metric legate_config_reloads_total)
rounds=60
for i in $(seq 1 $rounds); do
	if [ $((i % 2)) = 1 ]; then conf all a; else conf all b; fi
	kill -HUP "$LEGATE_PID"
	set=$([ $((i % 2)) = 1 ] && echo a || echo b)
	lg_wait 10 "$set.cfg after reload $i" test -e "$T/$set.cfg"
	rm -f "$T/$set.cfg"
	sleep 0.05
done
lg_wait 10 "the last reload" test "$(metric legate_config_reloads_total)" = $((r0 + rounds))
sleep 1
touch "$T/stop"
wait "$SAMPLER" 2>/dev/null || true
peak=$(cat "$T/peak")
after=$(lg_agent_conns "$CONSUL_HTTP_PORT")
held=$(metric legate_connections)
lg_consul_register late-2 late 9101 > /dev/null
lg_wait 10 "a registration after the swaps" grep -q "server late-2 " "$T/all.cfg"
lg_consul_register b7-1 b7 9107 > /dev/null
lg_wait 10 "a service of the last template set" grep -q "^b7 9107" "$T/b.cfg"
lg_log "$rounds reloads dropping 10 watches each: agent-side connections peak $peak, $after after;" \
	"legate's own count $held (cap $CAP)"
[ "$peak" -le $CAP ] || lg_fail "the agent held $peak connections during the swaps (cap $CAP)"
[ "$after" -le $CAP ] || lg_fail "the agent holds $after connections after the swaps (cap $CAP)"
lg_alive "$LEGATE_PID" || lg_fail "legate exited"
