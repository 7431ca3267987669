# bench/watcher.sh: the watcher against a real Consul dev agent.
#  1. latency from a Consul change to the watcher's change line, next to a
#     raw curl long-poll on the same change in the same run (the bound);
#  2. connections held while watching 1, 100 and 1000 services, next to one
#     long-poll per watch (what a watcher without a cap does);
#  3. CPU time used over 60 idle seconds while watching 1000 services.
. "$LEGATE_ROOT/tests/lib.sh"

W=$LEGATE_TOOLS/watchctl
[ -x "$W" ] || lg_fail "build first: make test-bins"
now() { echo "${EPOCHREALTIME/./}"; }   # microseconds, no fork
stats() {  # stdin: numbers in microseconds; prints "median p90 max" in ms
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - -"; exit }
		printf "%.1f %.1f %.1f\n", v[int((NR + 1) / 2)] / 1000, v[int(NR * 0.9 + 0.999)] / 1000, v[NR] / 1000 }'
}
conns() { ss -tnpH state established "( dport = :$CONSUL_HTTP_PORT )" | grep -c "pid=$1," || true; }

lg_start_consul
lg_consul_banner
A=$CONSUL_HTTP_ADDR
echo "(load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs)"
echo

# --- 1. latency ------------------------------------------------------------
OUT=$T/lat.out
"$W" -consul-addr "$A" -ts service.web > "$OUT" 2> "$T/lat.log" &
WPID=$!
LG_PIDS+=($WPID)
lg_wait 10 "first line" grep -q ' service.web ' "$OUT"
ITER=20
: > "$T/lat.w"
: > "$T/lat.raw"
for i in $(seq 1 $ITER); do
	idx=$(curl -sS -D - -o /dev/null "http://$A/v1/health/service/web?passing=1" | tr -d '\r' |
		sed -n 's/^X-Consul-Index: //Ip')
	[ -n "$idx" ] || lg_fail "no X-Consul-Index"
	# The bound: the first byte of the raw long-poll's answer.
	( curl -sSN "http://$A/v1/health/service/web?passing=1&index=$idx&wait=60s" |
		{ IFS= read -r -n 1 _; now > "$T/raw.$i"; cat > /dev/null; } ) &
	raw=$!
	sleep 0.3
	before=$(wc -l < "$OUT")
	t0=$(now)
	if [ $((i % 2)) = 1 ]; then
		lg_consul_register "web$i" web $((8000 + i)) > /dev/null
	else
		lg_consul_deregister "web$((i - 1))" > /dev/null
	fi
	lg_wait 10 "change $i" sh -c "[ \$(wc -l < '$OUT') -gt $before ] && [ -s '$T/raw.$i' ]"
	wait "$raw"
	tw=$(sed -n "$((before + 1))p" "$OUT" | cut -d' ' -f1)
	echo $((tw - t0)) >> "$T/lat.w"
	echo $(( $(cat "$T/raw.$i") - t0 )) >> "$T/lat.raw"
done
kill "$WPID"
wait "$WPID" 2>/dev/null || true
read -r wm wp wx <<< "$(stats < "$T/lat.w")"
read -r rm rp rx <<< "$(stats < "$T/lat.raw")"
echo "Latency from a Consul change (agent service register/deregister) to the change line, $ITER changes:"
echo
printf '| %-34s | %10s | %10s | %10s |\n' "" "median ms" "p90 ms" "max ms"
printf '|%s|%s|%s|%s|\n' "------------------------------------" "------------" "------------" "------------"
printf '| %-34s | %10s | %10s | %10s |\n' "raw curl long-poll (the bound)" "$rm" "$rp" "$rx"
printf '| %-34s | %10s | %10s | %10s |\n' "legate watcher (service.web)" "$wm" "$wp" "$wx"
echo

# --- 2. connections at scale --------------------------------------------------
args=()
for i in $(seq 1 1000); do
	args+=(-X PUT --data-binary "{\"Node\":\"ext\",\"Address\":\"10.1.0.1\",\"Service\":{\"ID\":\"s$i-a\",\"Service\":\"s$i\",\"Port\":$((9000 + i))}}" \
		"http://$A/v1/catalog/register" --next)
done
curl -sSf "${args[@]}" -X GET "http://$A/v1/status/leader" > /dev/null

# run N MAXCONNS LABEL: watch s1..sN; prints a table row.
run() {
	local n=$1 cap=$2 label=$3 pid peak=0 c t0 tfull steady lat tw before r429
	for i in $(seq 1 "$n"); do echo "service.s$i"; done > "$T/names"
	OUT=$T/scale.out
	t0=$(now)
	"$W" -consul-addr "$A" -max-conns "$cap" -ts -names-file "$T/names" > "$OUT" 2> "$T/scale.log" &
	pid=$!
	LG_PIDS+=($pid)
	for _ in $(seq 1 600); do
		c=$(conns $pid)
		[ "$c" -gt "$peak" ] && peak=$c
		[ "$(wc -l < "$OUT")" -ge "$n" ] && break
		sleep 0.05
	done
	if [ "$(wc -l < "$OUT")" -ge "$n" ]; then
		tfull=$(( ($(tail -n 1 "$OUT" | cut -d' ' -f1) - t0) / 1000 ))
	else
		tfull="> 30000 ($(wc -l < "$OUT")/$n)"
	fi
	for _ in $(seq 1 20); do
		c=$(conns $pid)
		[ "$c" -gt "$peak" ] && peak=$c
		sleep 0.1
	done
	steady=$(conns $pid)
	# One change on the last service (beyond the cap when there is one).
	before=$(grep -c " service.s$n " "$OUT" || true)
	t0=$(now)
	lat="> 30000"
	if ! lg_consul PUT /v1/catalog/register \
		"{\"Node\":\"ext2\",\"Address\":\"10.1.0.2\",\"Service\":{\"ID\":\"s$n-b\",\"Service\":\"s$n\",\"Port\":1}}" > /dev/null 2>&1; then
		lat="change refused"   # the agent turned away the change itself
	else
		for _ in $(seq 1 300); do
			if [ "$(grep -c " service.s$n " "$OUT" || true)" -gt "$before" ]; then
				tw=$(grep " service.s$n " "$OUT" | tail -n 1 | cut -d' ' -f1)
				lat=$(awk -v d=$((tw - t0)) 'BEGIN { printf "%.1f", d / 1000 }')
				break
			fi
			sleep 0.1
		done
	fi
	lg_consul PUT /v1/catalog/deregister "{\"Node\":\"ext2\",\"ServiceID\":\"s$n-b\"}" > /dev/null 2>&1 || true
	sleep 0.5
	r429=$(grep -c ': warn: ' "$T/scale.log" || true)
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	printf '| %-30s | %8s | %8s | %8s | %16s | %12s | %12s |\n' "$label" "$n" "$peak" "$steady" "$tfull" "$lat" "$r429"
}
echo "Connections to the agent while watching N services (service.sI, each with one instance):"
echo
printf '| %-30s | %8s | %8s | %8s | %16s | %12s | %12s |\n' "" "services" "peak" "steady" "all ms" "change ms" "failed calls"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "--------------------------------" "----------" "----------" "----------" "------------------" "--------------" "--------------"
run 1 32 "legate (cap 32)"
run 100 32 "legate (cap 32)"
run 1000 32 "legate (cap 32)"
run 1000 2000 "no cap: one long-poll per watch"
echo
echo "all ms: until every watch had its first data; change ms: a new instance of the"
echo "last service until its change line (with 1000, a triggered watch: trigger + sweep);"
echo "failed calls: refused, reset or 429 (Consul's limit: 200 connections per client address;"
echo "1.8 resets the ones beyond it, later versions answer 429)."
echo

# --- 3. idle CPU ------------------------------------------------------------------
for i in $(seq 1 1000); do echo "service.s$i"; done > "$T/names"
"$W" -consul-addr "$A" -names-file "$T/names" > "$T/idle.out" 2> "$T/idle.log" &
pid=$!
LG_PIDS+=($pid)
lg_wait 60 "1000 watches" sh -c "[ \$(wc -l < '$T/idle.out') -ge 1000 ]"
sleep 2
tick=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
c0=$(cpu $pid)
sleep 60
c1=$(cpu $pid)
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
echo "Idle: 1000 services watched (cap 32), 60 s with no change:"
echo
echo "| CPU time in 60 s | resident memory |"
echo "|---|---|"
echo "| $(( (c1 - c0) * 1000 / tick )) ms | $((rss / 1024)) MiB |"
kill "$pid"
wait "$pid" 2>/dev/null || true
