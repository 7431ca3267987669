# bench/scale: legate with a large catalog, next to consul-template in the
# same run where it finishes.  For each size: SERVICES services x 2
# instances registered on 50 nodes (through the transaction API), then the
# template {{#services}}{{name}}:{{#instances}} {{id}}@{{port}}{{/instances}}
# (one line a service) rendered by legate; measured:
#   first render   from start to the file listing every service, and the
#                  CPU legate used until then
#   change -> file p50/p99 over 20 instances added to the last service (a
#                  watch beyond the long-poll slots), each on another node
#   requests/change HTTP requests legate sent per such change
#   connections    to the agent, legate's private memory (RssAnon) and its
#                  CPU over 20 idle seconds
# BENCH_SCALE_SIZES picks the sizes (default "1000 10000 50000").
. "$LEGATE_ROOT/tests/lib.sh"

SIZES=${BENCH_SCALE_SIZES:-1000 10000 50000}
CHANGES=${BENCH_SCALE_CHANGES:-20}
LIMIT=${BENCH_SCALE_LIMIT:-180}
. "$LEGATE_ROOT/bench/peers.bash"
bench_consul_template

ms_now() { echo $(($(date +%s%N) / 1000000)); }
cpu_ms() { awk '{ printf "%d", ($14 + $15) * 10 }' "/proc/$1/stat"; }   # 100 Hz ticks
anon_mb() { awk '/^RssAnon/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
conns() { ss -Htnp state established "( dport = :$CONSUL_HTTP_PORT )" 2>/dev/null | grep -c "pid=$1," || true; }
metric() { curl -sf "http://$STATUS/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

printf '{{#services}}{{name}}:{{#instances}} {{id}}@{{port}}{{/instances}}\n{{/services}}' > "$T/t.mustache"
printf '{{ range services }}{{ .Name }}:{{ range service .Name }} {{ .ID }}@{{ .Port }}{{ end }}\n{{ end }}' > "$T/t.ctmpl"

# complete FILE N: the file lists N+1 services (consul itself), each svc with 2+ instances.
complete() {
	awk -v n="$2" 'NF >= 1 { lines++; if ($1 ~ /^svc-/ && NF < 3) bad++ } END { exit !(lines >= n + 1 && !bad) }' "$1" 2>/dev/null
}

# wait_complete FILE N PID: ms until complete, or "-" past the limit.
wait_complete() {
	local start=$(ms_now) i
	for ((i = 0; i < LIMIT * 10; i++)); do
		complete "$1" "$2" && { echo $(($(ms_now) - start)); return; }
		kill -0 "$3" 2>/dev/null || break
		sleep 0.1
	done
	echo "-"
}

pct() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { k = int((p * NR + 99) / 100); if (k < 1) k = 1; print v[k] }'; }

rows=()
for n in $SIZES; do
	lg_start_consul
	start=$(ms_now)
	python3 "$LEGATE_ROOT/bench/scale/fill.py" "$CONSUL_HTTP_ADDR" "$n" 2 50
	fill_ms=$(($(ms_now) - start))
	STATUS=127.0.0.1:$(lg_ports 1)
	lg_bg "legate-$n" "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -log-level warn \
		-status-addr "$STATUS" -template "$T/t.mustache:$T/out-$n"
	pid=$LG_LAST_PID
	first=$(wait_complete "$T/out-$n" "$n" "$pid")
	cpu_first=$(cpu_ms "$pid")
	# changes: a new instance of the last service each time
	: > "$T/lat"
	req0=$(metric legate_requests_total)
	if [ "$first" != - ]; then
		for ((c = 0; c < CHANGES; c++)); do
			s=$(ms_now)
			# on node k (fill.py's address for it): every change on another
			# node, so that none is found by the first node read
			k=$((c * 7 % 50))
			lg_consul PUT /v1/catalog/register "{\"Node\":\"node-$k\",\"Address\":\"10.1.0.$((k + 1))\",\"Service\":{\"ID\":\"new-$c\",\"Service\":\"svc-$((n - 1))\",\"Port\":$((30000 + c))}}" > /dev/null
			for ((k = 0; k < LIMIT * 100; k++)); do
				grep -q "new-$c@" "$T/out-$n" && break
				sleep 0.01
			done
			echo $(($(ms_now) - s)) >> "$T/lat"
			sleep 0.3
		done
	fi
	req1=$(metric legate_requests_total)
	per_change=$(awk -v a="${req0:-0}" -v b="${req1:-0}" -v c="$CHANGES" 'BEGIN { printf "%.1f", (b - a) / c }')
	sleep 3   # the last change's sweep ends after its file is written
	cn=$(conns "$pid")
	mem=$(anon_mb "$pid")
	idle0=$(cpu_ms "$pid")
	sleep 20
	idle=$(($(cpu_ms "$pid") - idle0))
	p50=-; p99=-
	[ -s "$T/lat" ] && { p50=$(pct "$T/lat" 50); p99=$(pct "$T/lat" 99); }
	rows+=("$(printf '| legate | %6d | %8s | %8s | %6s | %6s | %8s | %5s | %6s | %6s |' "$n" "$first" "$cpu_first" "$p50" "$p99" "$per_change" "$cn" "$mem" "$idle")")
	kill "$pid" || true; wait "$pid" 2>/dev/null || true
	if [ -n "$CT" ]; then
		lg_bg "ct-$n" "$CT" -consul-addr "$CONSUL_HTTP_ADDR" -log-level err -template "$T/t.ctmpl:$T/ct-$n"
		ctpid=$LG_LAST_PID
		ctfirst=$(wait_complete "$T/ct-$n" "$n" "$ctpid")
		ctcpu=$(cpu_ms "$ctpid" 2>/dev/null || echo -)
		ctcn=$(conns "$ctpid"); ctmem=$(anon_mb "$ctpid" 2>/dev/null || echo -)
		rows+=("$(printf '| consul-template | %6d | %8s | %8s | %6s | %6s | %8s | %5s | %6s | %6s |' "$n" "$ctfirst" "$ctcpu" - - - "$ctcn" "$ctmem" -)")
		kill -INT "$ctpid" 2>/dev/null || true; sleep 1; kill -KILL "$ctpid" 2>/dev/null || true; wait "$ctpid" 2>/dev/null || true
	fi
	echo "# $n services x 2 registered in ${fill_ms} ms"
	lg_stop_consul TERM
	unset CONSUL_PID
done
echo "scale: services x 2 instances on 50 nodes (ms, MB; $(lg_consul_banner 2>/dev/null | head -c 60))"
echo "| peer | services | first render | CPU until then | change p50 | change p99 | requests/change | conns | private MB | idle CPU ms/20s |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
