# bench/haproxy: change to traffic, from a registration in Consul to the
# first new connection through HAProxy answered by the new backend (p50,
# p99, max over N changes), in one run:
#   - legate, runtime path: the haproxy block, server changes through the
#     runtime API (no reload);
#   - legate, reload path: the same with runtime = false (every change a
#     reload through the master CLI, confirmed);
#   - consul-template with a SIGUSR2 reload (HAProxy's documented way);
#   - the shipped image files (HTTP mode, 100ms:1s quiescence, haproxy -c)
#     as `make demo` and the container run them.
# The first three share settings: TCP mode, no quiescence, no check.
# consul-template is built from the Go module proxy into build/peers when
# Go is available; nothing of it is committed.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/haproxy/stack.bash"

N=${BENCH_CHANGES:-50}
. "$LEGATE_ROOT/bench/peers.bash"
bench_consul_template

lg_start_consul
lg_consul_banner
lg_start_nginx web1; p1=$NGINX_PORT
lg_start_nginx new-a; pa=$NGINX_PORT
lg_start_nginx new-b; pb=$NGINX_PORT
lg_consul_register web1 web "$p1" '["haproxy","haproxy-default"]' > /dev/null

read -r FRONT <<< "$(lg_ports 1)"
cat > "$T/tcp.mustache" <<TPL
global
	maxconn 4096
defaults
	mode tcp
	timeout connect 2s
	timeout client 30s
	timeout server 30s
frontend f
	bind 127.0.0.1:$FRONT
	default_backend web
backend web
	balance roundrobin
{{#service.web}}
	server {{id}} {{address}}:{{port}}
{{/service.web}}
TPL
cat > "$T/tcp.ctmpl" <<TPL
global
	maxconn 4096
defaults
	mode tcp
	timeout connect 2s
	timeout client 30s
	timeout server 30s
frontend f
	bind 127.0.0.1:$FRONT
	default_backend web
backend web
	balance roundrobin
{{ range service "web" }}	server {{ .ID }} {{ .Address }}:{{ .Port }}
{{ end }}
TPL

# run_peer NAME: N changes through 127.0.0.1:$FRONT; prints the result line.
measure() {
	"$LEGATE_TOOLS/benchswitch" "$CONSUL_HTTP_ADDR" "127.0.0.1:$FRONT" "$N" web "new-a:$pa" "new-b:$pb" \
		'["haproxy","haproxy-default"]'
}

# start_haproxy DIR: HAProxy on DIR/haproxy.cfg once the file exists.
start_haproxy() {
	lg_wait 10 "$1/haproxy.cfg" test -s "$1/haproxy.cfg"
	lg_bg "haproxy-$(basename "$1")" haproxy -W -db -f "$1/haproxy.cfg" -S "$1/master.sock"
	HP_PID=$LG_LAST_PID
	lg_wait 10 "HAProxy in $1" sh -c "curl -sf http://127.0.0.1:$FRONT/ | grep -qx web1"
}

# stop PID...: SIGINT (consul-template's stop signal; legate and HAProxy
# take it too), SIGKILL after 5 s.
stop() {
	local p i
	for p in "$@"; do
		kill -INT "$p" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	true
}

# legate_peer NAME RUNTIME: legate with the haproxy block.
legate_peer() {
	local d=$T/$1
	mkdir -p "$d"
	cat > "$d/legate.hcl" <<HCL
template {
  source      = "$T/tcp.mustache"
  destination = "$d/haproxy.cfg"
  haproxy {
    master_socket = "$d/master.sock"
    runtime       = $2
  }
}
HCL
	lg_bg "legate-$1" "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -config "$d/legate.hcl" \
		-status-addr "127.0.0.1:$(lg_ports 1)" -log-level warn
	local lp=$LG_LAST_PID
	start_haproxy "$d"
	sleep 1   # legate finds the new master and reloads it once
	measure
	stop "$lp" "$HP_PID"
}

runtime=$(legate_peer runtime true)
reload=$(legate_peer reload false)
ct="-"
if [ -n "$CT" ]; then
	d=$T/ct
	mkdir -p "$d"
	# The master's pid is known once HAProxy runs; the first render comes
	# before that (and a failed command would stop consul-template).
	lg_bg consul-template "$CT" -consul-addr "$CONSUL_HTTP_ADDR" -log-level warn \
		-template "$T/tcp.ctmpl:$d/haproxy.cfg:sh -c 'test ! -f $d/pid || kill -USR2 \$(cat $d/pid)'"
	ctp=$LG_LAST_PID
	start_haproxy "$d"
	echo "$HP_PID" > "$d/pid"
	ct=$(measure)
	stop "$ctp" "$HP_PID"
fi

lg_stack_start
FRONT=${STACK_HTTP##*:}
shipped=$(measure)

col() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" <<< "$1"; }
row() { printf '| %-66s | %7s | %7s | %7s |\n' "$1" "$(col "$2" p50)" "$(col "$2" p99)" "$(col "$2" max)"; }
echo "change to traffic, $N changes (ms; $(haproxy -v | awk 'NR == 1 { print "haproxy " $3 }'))"
printf '| %-66s | %7s | %7s | %7s |\n' "from the registration in Consul to the new backend's first answer" p50 p99 max
printf '|%s|%s|%s|%s|\n' "--------------------------------------------------------------------" "---------" "---------" "---------"
row "legate, runtime API (TCP mode, no wait, no check)" "$runtime"
row "legate, confirmed reload (runtime = false, same settings)" "$reload"
row "consul-template + SIGUSR2 reload (same settings)" "$ct"
row "the shipped image files (HTTP, wait 100ms:1s, haproxy -c)" "$shipped"
r=$(col "$runtime" p50)
c=$(col "$ct" p50)
[ -n "$r" ] && [ -n "$c" ] && awk -v r="$r" -v c="$c" 'BEGIN { printf "runtime path p50: %.1fx faster than consul-template + reload\n", c / r }'
true
