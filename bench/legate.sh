# bench/legate: legate next to consul-template on the same Consul, in one
# run: change-to-file latency (p50/p99 over 200 KV changes) with the raw
# long-poll as the physical bound; RSS idle and while watching 1,000
# services (with the connections each holds); CPU over 60 idle seconds.
# consul-template is built from the Go module proxy into build/peers when Go
# is available; nothing of it is committed.  BENCH_LEGATE_PEER=/path/to/legate
# adds another legate build's column (an older tree, for a before/after
# table in one run).
. "$LEGATE_ROOT/tests/lib.sh"

N=${BENCH_CHANGES:-200}
SERVICES=${BENCH_SERVICES:-1000}
IDLE=${BENCH_IDLE:-60}
. "$LEGATE_ROOT/bench/peers.bash"
bench_consul_template

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
anon_kb() { awk '/^RssAnon/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# count_wait FILE N SECS: waits until FILE has N "  server" lines; prints
# the milliseconds it took, or "none in SECS s".
count_wait() {
	local start k c
	start=$(date +%s%N)
	for ((k = 0; k < $3 * 20; k++)); do
		c=$(grep -c '^  server' "$1" 2>/dev/null || true)
		if [ "${c:-0}" -ge "$2" ]; then
			echo $(( ($(date +%s%N) - start) / 1000000 ))
			return 0
		fi
		sleep 0.05
	done
	echo "none in $3 s"
}
conns() { ss -Htnp state established "( dport = :$CONSUL_HTTP_PORT )" 2>/dev/null | grep -c "pid=$1," || true; }

lg_start_consul
lg_consul_banner
lg_consul PUT /v1/kv/bench/value start >/dev/null

# --- latency ------------------------------------------------------------------
printf '{{key.bench/value}}\n' > "$T/lat.mustache"
printf '{{ key "bench/value" }}\n' > "$T/lat.ctmpl"
lg_bg legate-lat "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -template "$T/lat.mustache:$T/lat-legate.out" -log-level warn
LAT_LEG_PID=$LG_LAST_PID
lg_wait 10 "legate's first render" test -s "$T/lat-legate.out"
raw=$("$LEGATE_TOOLS/benchlat" raw "$CONSUL_HTTP_ADDR" bench/value "$N")
leg=$("$LEGATE_TOOLS/benchlat" file "$CONSUL_HTTP_ADDR" bench/value "$N" "$T/lat-legate.out")
PEER=${BENCH_LEGATE_PEER:-}
peer="-"
if [ -n "$PEER" ]; then
	lg_bg peer-lat "$PEER" -consul-addr "$CONSUL_HTTP_ADDR" -template "$T/lat.mustache:$T/lat-peer.out" -log-level warn
	LAT_PEER_PID=$LG_LAST_PID
	lg_wait 10 "the peer build's first render" test -s "$T/lat-peer.out"
	peer=$("$LEGATE_TOOLS/benchlat" file "$CONSUL_HTTP_ADDR" bench/value "$N" "$T/lat-peer.out")
fi
ct="-"
if [ -n "$CT" ]; then
	lg_bg ct-lat "$CT" -consul-addr "$CONSUL_HTTP_ADDR" -template "$T/lat.ctmpl:$T/lat-ct.out" -log-level warn
	LAT_CT_PID=$LG_LAST_PID
	lg_wait 10 "consul-template's first render" test -s "$T/lat-ct.out"
	ct=$("$LEGATE_TOOLS/benchlat" file "$CONSUL_HTTP_ADDR" bench/value "$N" "$T/lat-ct.out")
fi
echo
echo "Change-to-file latency, $N KV changes (ms)"
echo
printf '| %-26s | %s |\n' "who" "p50 / p99 / min / max" "---" "---"
printf '| %-26s | %s |\n' "raw blocking query (bound)" "$raw" "legate" "$leg" "consul-template" "$ct"
[ -z "$PEER" ] || printf '| %-26s | %s |\n' "legate (peer build)" "$peer"

# --- 1,000 services -----------------------------------------------------------
echo
echo "# registering $SERVICES services"
for ((i = 0; i < SERVICES; i++)); do
	printf '{"ID":"s%d-1","Name":"svc%d","Address":"127.0.0.1","Port":%d}\n' "$i" "$i" $((20000 + i))
done > "$T/services.jsonl"
while read -r svc; do
	curl -sf -X PUT --data-binary "$svc" "http://$CONSUL_HTTP_ADDR/v1/agent/service/register" >/dev/null
done < "$T/services.jsonl"
lg_wait 60 "$SERVICES services in the catalog" sh -c \
	"[ \$(curl -sf http://$CONSUL_HTTP_ADDR/v1/catalog/services | tr ',' '\n' | grep -c svc) -ge $SERVICES ]"

cat > "$T/all.mustache" <<'TPL'
{{#services}}
backend {{name}}
{{#instances}}
  server {{id}} {{address}}:{{port}}
{{/instances}}
{{/services}}
TPL
cat > "$T/all.ctmpl" <<'TPL'
{{ range services }}
backend {{ .Name }}
{{ range service .Name }}
  server {{ .ID }} {{ .Address }}:{{ .Port }}
{{ end }}{{ end }}
TPL
# Each alone: Consul allows 200 connections per client address, and both
# run from 127.0.0.1, so side by side they would take from each other.
# measure NAME PID: after the first complete render, RSS and connections,
# then CPU over $IDLE idle seconds; then the process is stopped.
hz=$(getconf CLK_TCK)
measure() {
	local pid=$2 c0
	sleep 3
	eval "$1_rss=\$(rss_kb $pid); $1_anon=\$(anon_kb $pid); $1_conns=\$(conns $pid)"
	c0=$(cpu_ticks "$pid")
	echo "# $1: idle for $IDLE s to measure CPU"
	sleep "$IDLE"
	eval "$1_cpu=\$(awk -v a=$c0 -v b=\$(cpu_ticks $pid) -v hz=$hz 'BEGIN { printf \"%.2f\", (b - a) / hz }')"
	kill "$pid"
}
lat_leg_rss=$(rss_kb "$LAT_LEG_PID")
lat_leg_anon=$(anon_kb "$LAT_LEG_PID")
lat_ct_rss=- lat_ct_anon=-
if [ -n "$CT" ]; then
	lat_ct_rss=$(rss_kb "$LAT_CT_PID")
	lat_ct_anon=$(anon_kb "$LAT_CT_PID")
	kill "$LAT_CT_PID"
fi
kill "$LAT_LEG_PID"
lat_peer_rss=- lat_peer_anon=-
if [ -n "$PEER" ]; then
	lat_peer_rss=$(rss_kb "$LAT_PEER_PID")
	lat_peer_anon=$(anon_kb "$LAT_PEER_PID")
	kill "$LAT_PEER_PID"
fi

lg_bg legate-all "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -template "$T/all.mustache:$T/all-legate.out" -log-level warn
leg_first=$(count_wait "$T/all-legate.out" "$SERVICES" 120)
measure leg "$LG_LAST_PID"
ct_rss=- ct_anon=- ct_conns=- ct_first=- ct_cpu=-
if [ -n "$CT" ]; then
	lg_bg ct-all "$CT" -consul-addr "$CONSUL_HTTP_ADDR" -template "$T/all.ctmpl:$T/all-ct.out" -log-level warn
	ct_first=$(count_wait "$T/all-ct.out" "$SERVICES" 120)
	measure ct "$LG_LAST_PID"
fi

peer_rss=- peer_anon=- peer_conns=- peer_first=- peer_cpu=-
if [ -n "$PEER" ]; then
	lg_bg peer-all "$PEER" -consul-addr "$CONSUL_HTTP_ADDR" -template "$T/all.mustache:$T/all-peer.out" -log-level warn
	peer_first=$(count_wait "$T/all-peer.out" "$SERVICES" 120)
	measure peer "$LG_LAST_PID"
fi

echo
echo "Resources (same Consul, same data, same run)"
echo
if [ -n "$PEER" ]; then
	printf '| %-46s | %-12s | %-15s | %-15s |\n' "measure" "legate" "consul-template" "legate (peer)" "---" "---" "---" "---"
	row() { printf '| %-46s | %-12s | %-15s | %-15s |\n' "$@"; }
else
	printf '| %-46s | %-12s | %-15s |\n' "measure" "legate" "consul-template" "---" "---" "---"
	row() { printf '| %-46s | %-12s | %-15s |\n' "$1" "$2" "$3"; }
fi
row "RSS / private (RssAnon), one key watched (kB)" "$lat_leg_rss / $lat_leg_anon" "$lat_ct_rss / $lat_ct_anon" "$lat_peer_rss / $lat_peer_anon"
row "RSS / private, $SERVICES services watched (kB)" "$leg_rss / $leg_anon" "$ct_rss / $ct_anon" "$peer_rss / $peer_anon"
row "connections to Consul, $SERVICES services" "$leg_conns" "$ct_conns" "$peer_conns"
row "first complete render, $SERVICES services (ms)" "$leg_first" "$ct_first" "$peer_first"
row "CPU seconds over $IDLE idle s ($SERVICES services)" "$leg_cpu" "$ct_cpu" "$peer_cpu"
row "log lines mentioning 429" "$(grep -c 429 "$T/legate-all.log" || true)" "$(grep -c 429 "$T/ct-all.log" 2>/dev/null || true)" "$(grep -c 429 "$T/peer-all.log" 2>/dev/null || true)"
