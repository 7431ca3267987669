# bench/etcd: legate following many etcd keys, next to confd in the same
# run when a confd binary is at build/peers/bin/confd (or $CONFD).  For
# each size: KEYS keys /bench/k1.. written through the v3 gateway (txns of
# 100 puts), a template that names every key once ({{key.bench/kN}}; confd:
# one range over /bench/*), the daemon started; measured:
#   first render   from start to the file holding every key, and the CPU
#                  used until then
#   change -> file p50/p99 over 20 puts to keys spread over the range
#   conns          connections to etcd held afterwards (legate: one stream,
#                  the rest idle ones its reads left), private memory
# BENCH_ETCD_SIZES picks the sizes (default "1000 10000").
. "$LEGATE_ROOT/tests/lib.sh"

SIZES=${BENCH_ETCD_SIZES:-1000 10000}
CHANGES=${BENCH_ETCD_CHANGES:-20}
LIMIT=${BENCH_ETCD_LIMIT:-180}
CONFD=${CONFD:-$LEGATE_ROOT/build/peers/bin/confd}
[ -x "$CONFD" ] || CONFD=

ms_now() { echo $(($(date +%s%N) / 1000000)); }
cpu_ms() { awk '{ printf "%d", ($14 + $15) * 10 }' "/proc/$1/stat"; }   # 100 Hz ticks
anon_mb() { awk '/^RssAnon/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
conns() { ss -Htnp state established "( dport = :$ETCD_PORT )" 2>/dev/null | grep -c "pid=$1," || true; }
pct() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { k = int((p * NR + 99) / 100); if (k < 1) k = 1; print v[k] }'; }

# wait_complete FILE N PID: ms until FILE has N lines "kI=...", or "-".
wait_complete() {
	local start=$(ms_now) i
	for ((i = 0; i < LIMIT * 20; i++)); do
		[ "$(grep -c '^k[0-9]*=v' "$1" 2>/dev/null)" = "$2" ] && { echo $(($(ms_now) - start)); return; }
		kill -0 "$3" 2>/dev/null || break
		sleep 0.05
	done
	echo "-"
}

# changes FILE N: CHANGES puts, each waited for in FILE; latencies to $T/lat.
changes() {
	local c k s i
	: > "$T/lat"
	for ((c = 0; c < CHANGES; c++)); do
		k=$(( (c * 7919) % $2 + 1 ))
		s=$(ms_now)
		lg_etcd_put "/bench/k$k" "c$c" > /dev/null
		for ((i = 0; i < LIMIT * 100; i++)); do
			grep -q "^k$k=c$c\$" "$1" && break
			sleep 0.01
		done
		echo $(($(ms_now) - s)) >> "$T/lat"
		sleep 0.2
	done
}

row() { # PEER N PID FIRST
	local cpu p50=- p99=- cn mem
	cpu=$(cpu_ms "$3" 2>/dev/null || echo -)
	[ "$4" != - ] && changes "$5" "$2" && p50=$(pct "$T/lat" 50) && p99=$(pct "$T/lat" 99)
	cn=$(conns "$3"); mem=$(anon_mb "$3" 2>/dev/null || echo -)
	rows+=("$(printf '| %s | %6d | %8s | %8s | %6s | %6s | %5s | %6s |' "$1" "$2" "$4" "$cpu" "$p50" "$p99" "$cn" "$mem")")
}

rows=()
for n in $SIZES; do
	lg_start_etcd --quota-backend-bytes=$((1 << 30))
	python3 - "$n" "$T" <<'PY'
import base64, json, sys
n, t = int(sys.argv[1]), sys.argv[2]
b = lambda s: base64.b64encode(s.encode()).decode()
for start in range(1, n + 1, 100):
    ops = [{"request_put": {"key": b("/bench/k%d" % i), "value": b("v%d" % i)}}
           for i in range(start, min(start + 100, n + 1))]
    open("%s/put%d.json" % (t, start), "w").write(json.dumps({"success": ops}))
with open("%s/t-%d.mustache" % (t, n), "w") as f:
    for i in range(1, n + 1):
        f.write("k%d={{key.bench/k%d}}\n" % (i, i))
PY
	for f in "$T"/put*.json; do curl -sSf "http://$ETCD_ADDR/v3/kv/txn" -d @"$f" > /dev/null; done
	rm -f "$T"/put*.json

	lg_bg "legate-$n" "$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -log-level warn \
		-template "$T/t-$n.mustache:$T/out-$n"
	pid=$LG_LAST_PID
	first=$(wait_complete "$T/out-$n" "$n" "$pid")
	row legate "$n" "$pid" "$first" "$T/out-$n"
	kill "$pid" || true; wait "$pid" 2>/dev/null || true

	if [ -n "$CONFD" ]; then
		# the same keys put back, so confd starts from the same data
		for ((c = 0; c < CHANGES; c++)); do k=$(( (c * 7919) % n + 1 )); lg_etcd_put "/bench/k$k" "v$k" > /dev/null; done
		mkdir -p "$T/confd-$n/conf.d" "$T/confd-$n/templates"
		printf '{{range gets "/bench/*"}}{{base .Key}}={{.Value}}\n{{end}}' > "$T/confd-$n/templates/t.tmpl"
		printf '[template]\nsrc = "t.tmpl"\ndest = "%s"\nkeys = ["/bench"]\n' "$T/confd-out-$n" \
			> "$T/confd-$n/conf.d/t.toml"
		lg_bg "confd-$n" "$CONFD" -backend etcdv3 -node "http://$ETCD_ADDR" -confdir "$T/confd-$n" \
			-watch -log-level error
		cpid=$LG_LAST_PID
		cfirst=$(wait_complete "$T/confd-out-$n" "$n" "$cpid")
		row confd "$n" "$cpid" "$cfirst" "$T/confd-out-$n"
		kill "$cpid" || true; wait "$cpid" 2>/dev/null || true
	fi
	lg_stop_etcd
	rm -rf "$T/etcd"
	unset ETCD_PID
done
echo "etcd: KEYS keys, one template naming each (ms, MB; $(etcd --version | head -1))"
echo "| peer | keys | first render | CPU until then | change p50 | change p99 | conns | private MB |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
