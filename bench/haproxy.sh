# bench/haproxy: change to traffic.  The HAProxy image's process tree on
# loopback (legate-init -> legate + haproxy -W, the shipped init.conf,
# legate.hcl and template); a backend is registered in Consul and the clock
# runs until a request through HAProxy is first answered by it.  p50 and p99
# over 50 changes, with the share spent before haproxy.cfg is installed.
# Between two changes the backend is deregistered again and the reload that
# follows is waited for, so every change starts from a settled HAProxy.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/haproxy/stack.bash"

N=${BENCH_CHANGES:-50}

lg_start_consul
lg_consul_banner
lg_start_nginx web1
p1=$NGINX_PORT
lg_start_nginx new-a
pa=$NGINX_PORT
lg_start_nginx new-b
pb=$NGINX_PORT
lg_register_web web1 "$p1"
lg_stack_start
lg_wait 10 "web1 through HAProxy" sh -c "curl -sf http://$STACK_HTTP/ | grep -qx web1"

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# settle R M: wait for R reload commands and M master reloads, then for the
# old workers to be gone.
settle() {
	lg_wait 10 "reload $1" sh -c "[ \$(curl -sf http://$STACK_STATUS/metrics |
		awk '\$1 ~ /^legate_commands_total/ { s += \$2 } END { print s + 0 }') -ge $1 ]"
	lg_wait 10 "master reload $2" sh -c "[ \"\$(echo 'show proc' | $LEGATE_TOOLS/unixsock $STACK_MASTER |
		awk '\$2 == \"master\" { print \$3; exit }')\" -ge $2 ]"
}

r=$(lg_stack_reloads)
m=$(lg_stack_master_reloads)
: > "$T/file.ms"
: > "$T/traffic.ms"
for ((i = 1; i <= N; i++)); do
	if ((i % 2)); then name=new-a port=$pa; else name=new-b port=$pb; fi
	start=$(date +%s%N)
	lg_register_web "$name" "$port"
	file_ms=
	for ((k = 0; k < 20000; k++)); do
		if [ -z "$file_ms" ] && grep -q "server $name " "$T/haproxy.cfg"; then
			file_ms=$(ms_since "$start")
		fi
		if [ "$(curl -s http://$STACK_HTTP/)" = "$name" ]; then
			break
		fi
	done
	traffic_ms=$(ms_since "$start")
	[ -n "$file_ms" ] || file_ms=$traffic_ms
	echo "$file_ms" >> "$T/file.ms"
	echo "$traffic_ms" >> "$T/traffic.ms"
	r=$((r + 1)) m=$((m + 1))
	settle "$r" "$m"
	lg_consul_deregister "$name" > /dev/null
	r=$((r + 1)) m=$((m + 1))
	settle "$r" "$m"
done

# pct FILE P: the P-th percentile (nearest rank) of the numbers in FILE.
pct() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { k = int((p * NR + 99) / 100); if (k < 1) k = 1; print v[k] }'; }
row() { printf '| %-46s | %6s | %6s | %6s |\n' "$1" "$(pct "$2" 50)" "$(pct "$2" 99)" "$(pct "$2" 100)"; }

echo "change to traffic, $N changes (ms; haproxy $(haproxy -v | awk 'NR == 1 { print $3 }'), template wait 100ms:1s)"
printf '| %-46s | %6s | %6s | %6s |\n' "from the registration in Consul to" p50 p99 max
printf '|%s|%s|%s|%s|\n' "------------------------------------------------" "--------" "--------" "--------"
row "haproxy.cfg installed (checked by haproxy -c)" "$T/file.ms"
row "first request answered by the new backend" "$T/traffic.ms"
