#!/usr/bin/env bash
# The local demo, without Docker: a Consul dev agent, nginx backends on
# loopback registered through the agent's API (as registrator does for
# containers), and legate-init running legate and HAProxy from the image's own
# files (compose/init.conf, compose/legate.hcl, templates/haproxy.cfg.mustache).
#
#   scripts/demo.sh            start, print where to look, run until Ctrl-C
#   scripts/demo.sh scale N    from another shell: run N backends (make demo-scale N=5)
#
# Everything listens on 127.0.0.1; the usual ports when free, others if not.
# State (ports, logs, backends) lives in build/demo; Ctrl-C stops everything.
set -uo pipefail

: "${LEGATE_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${LEGATE_BIN:=$LEGATE_ROOT/bin}"
D=${LEGATE_DEMO_DIR:-$LEGATE_ROOT/build/demo}
STATE=$D/state

# Output may go to a pipe whose reader is gone (make demo | tee: tee dies
# with the same Ctrl-C); a failed write is not worth a message.
say() { printf 'demo: %s\n' "$*" 2> /dev/null; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

port_busy() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

# free_port PREFERRED: PREFERRED when nothing listens there, else a free
# one below the kernel's range for outgoing connections (a port one of
# those holds accepts no connection, yet cannot be bound).
TAKEN=" "
free_port() {
	local p=$1 i lo
	read -r lo _ < /proc/sys/net/ipv4/ip_local_port_range 2> /dev/null || lo=32768
	[ "$lo" -gt 12000 ] || lo=32768
	for ((i = 0; i < 200; i++)); do
		if [[ $TAKEN != *" $p "* ]] && ! port_busy "$p"; then
			TAKEN+="$p "
			echo "$p"
			return
		fi
		p=$((10000 + RANDOM % (lo - 10000)))
	done
	die "no free port found"
}

consul_api() {
	curl -sf -X "$1" ${3:+--data-binary "$3"} "http://$CONSUL_HTTP_ADDR$2" > /dev/null
}

# start_backend I: nginx answering "backend I (port P)", registered as web-I.
start_backend() {
	local i=$1 b=$D/nginx-$1 port
	port=$(free_port $((9000 + i)))
	mkdir -p "$b/html" "$b/tmp"
	printf 'backend %s (127.0.0.1:%s)\n' "$i" "$port" > "$b/html/index.html"
	cat > "$b/nginx.conf" <<CONF
daemon off;
$([ "$(id -u)" = 0 ] && echo "user root;")
worker_processes 1;
pid $b/nginx.pid;
error_log $b/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $b/tmp;
	proxy_temp_path $b/tmp;
	fastcgi_temp_path $b/tmp;
	uwsgi_temp_path $b/tmp;
	scgi_temp_path $b/tmp;
	server {
		listen 127.0.0.1:$port;
		location / { root $b/html; default_type text/plain; }
	}
}
CONF
	setsid nginx -p "$b" -c "$b/nginx.conf" -e "$b/error.log" < /dev/null > /dev/null 2>&1 &
	echo $! > "$b/pid"   # nginx itself (setsid does not fork here), before its own pid file
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" > /dev/null && break; sleep 0.1; done
	consul_api PUT /v1/agent/service/register \
		"{\"ID\":\"web-$i\",\"Name\":\"web\",\"Address\":\"127.0.0.1\",\"Port\":$port,\"Tags\":[\"haproxy\",\"haproxy-default\"]}" ||
		die "cannot register web-$i with Consul"
	say "backend web-$i on 127.0.0.1:$port registered"
}

stop_backend() {
	local i=$1 b=$D/nginx-$1
	consul_api PUT "/v1/agent/service/deregister/web-$i" || true
	stop_pids QUIT "$(backend_pid "$i")"
	rm -rf "$b"
	say "backend web-$i deregistered and stopped"
}

# backend_pid I: the pid of backend I's nginx master, if it still runs
# (checked against its command line, in case the pid was reused).
backend_pid() {
	local pid
	pid=$(cat "$D/nginx-$1/pid" 2> /dev/null) || return 0
	grep -qF "$D/nginx-$1/" "/proc/$pid/cmdline" 2> /dev/null && echo "$pid"
	return 0
}

# stop_pids SIGNAL PID...: sends SIGNAL, waits up to 10 s for them all to
# end, then SIGKILL to what is left.
stop_pids() {
	local sig=$1 pid alive
	shift
	for pid in "$@"; do kill "-$sig" "$pid" 2> /dev/null; done
	for _ in $(seq 100); do
		alive=0
		for pid in "$@"; do kill -0 "$pid" 2> /dev/null && alive=1; done
		[ $alive = 0 ] && return 0
		sleep 0.1
	done
	for pid in "$@"; do kill -KILL "$pid" 2> /dev/null; done
}

backends() {
	local d
	for d in "$D"/nginx-*; do
		[ -d "$d" ] && echo "${d##*-}"
	done | sort -n
}

scale() {
	local n=$1 have i
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -le 50 ] || die "scale: want a number from 0 to 50, not \"$n\""
	[ -f "$STATE" ] || die "no demo is running (start it with: make demo)"
	# shellcheck source=/dev/null
	. "$STATE"
	curl -sf "http://$CONSUL_HTTP_ADDR/v1/status/leader" > /dev/null || die "the demo's Consul does not answer"
	mapfile -t have < <(backends)
	for ((i = ${#have[@]}; i > n; i--)); do stop_backend "${have[i - 1]}"; done
	i=0
	while [ "$(backends | wc -l)" -lt "$n" ]; do
		i=$((i + 1))
		[ -d "$D/nginx-$i" ] || start_backend "$i"
	done
	say "$n backends; watch them at http://$STATS/"
}

CHILDREN=()
# Runs to the end whatever happens meanwhile: a second Ctrl-C, a hang-up,
# or the reader of our output gone.  The backends run in sessions of their
# own (so a Ctrl-C in `make demo-scale` cannot stop them): only this stops
# them.
cleanup() {
	local rc=$? i pids=()
	trap - EXIT
	trap '' INT TERM HUP
	say ""
	say "stopping"
	for i in $(backends); do
		pids+=("$(backend_pid "$i")")
	done
	stop_pids QUIT "${pids[@]}"
	for ((i = ${#CHILDREN[@]} - 1; i >= 0; i--)); do
		stop_pids TERM "${CHILDREN[i]}"
	done
	wait 2> /dev/null
	rm -rf "$D"
	say "stopped"
	exit "$rc"
}

start() {
	local p
	for p in consul nginx haproxy curl; do
		command -v "$p" > /dev/null || die "$p is not installed (make deps)"
	done
	[ -x "$LEGATE_BIN/legate" ] && [ -x "$LEGATE_BIN/legate-init" ] || die "build first: make"
	if [ -f "$STATE" ]; then
		# shellcheck source=/dev/null
		. "$STATE"
		kill -0 "${DEMO_PID:-0}" 2> /dev/null && die "a demo is already running (pid $DEMO_PID)"
		rm -rf "$D"
	fi
	mkdir -p "$D"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	# Caught, not ignored: a write to a closed pipe fails instead of
	# killing the shell, and the programs started here keep the default.
	trap ':' PIPE

	CONSUL_HTTP_ADDR=127.0.0.1:$(free_port 8500)
	HTTP=127.0.0.1:$(free_port 8080)
	STATS=127.0.0.1:$(free_port 8404)
	STATUS=127.0.0.1:$(free_port 8405)
	export CONSUL_HTTP_ADDR

	consul agent -dev -node=legate-demo -bind=127.0.0.1 -client=127.0.0.1 \
		-http-port="${CONSUL_HTTP_ADDR##*:}" -dns-port="$(free_port 8600)" \
		-serf-lan-port="$(free_port 8301)" -serf-wan-port="$(free_port 8302)" \
		-server-port="$(free_port 8300)" -grpc-port=-1 -log-level=warn > "$D/consul.log" 2>&1 &
	CHILDREN+=($!)
	say "starting Consul on $CONSUL_HTTP_ADDR"
	for _ in $(seq 300); do
		curl -sf "http://$CONSUL_HTTP_ADDR/v1/catalog/nodes" 2> /dev/null | grep -q legate-demo && break
		sleep 0.1
	done
	curl -sf "http://$CONSUL_HTTP_ADDR/v1/catalog/nodes" | grep -q legate-demo ||
		die "Consul did not start: $(tail -n 5 "$D/consul.log")"
	cat > "$STATE" <<STATE
DEMO_PID=$$
CONSUL_HTTP_ADDR=$CONSUL_HTTP_ADDR
HTTP=$HTTP
STATS=$STATS
STATUS=$STATUS
STATE

	for i in 1 2 3; do start_backend "$i"; done

	sed -e "s#/etc/legate/haproxy.cfg.mustache#$LEGATE_ROOT/templates/haproxy.cfg.mustache#" \
		-e "s#/etc/haproxy/haproxy.cfg#$D/haproxy.cfg#" \
		"$LEGATE_ROOT/compose/legate.hcl" > "$D/legate.hcl"
	PATH=$LEGATE_BIN:$PATH \
	LEGATE_CONFIG=$D/legate.hcl LEGATE_STATUS_ADDR=$STATUS \
	HAPROXY_CONFIG=$D/haproxy.cfg HAPROXY_MASTER_SOCKET=$D/haproxy-master.sock \
	HAPROXY_HTTP_BIND=$HTTP HAPROXY_STATS_BIND=$STATS HAPROXY_ADMIN_SOCKET=$D/haproxy-admin.sock \
		"$LEGATE_BIN/legate-init" -P -S "$D/legate-init.sock" -c "$LEGATE_ROOT/compose/init.conf" &
	CHILDREN+=($!)
	for _ in $(seq 200); do
		curl -sf "http://$HTTP/" > /dev/null 2>&1 && break
		sleep 0.1
	done
	curl -sf "http://$HTTP/" > /dev/null || die "HAProxy does not answer on $HTTP"

	cat <<INFO

  legate demo: Consul, 3 nginx backends, legate-init -> legate + haproxy -W

  HAProxy              http://$HTTP/              (curl -i: X-Served-By names the backend)
  HAProxy stats        http://$STATS/
  legate status        http://$STATUS/status      (/health, /metrics)
  Consul               http://$CONSUL_HTTP_ADDR/ui/
  rendered config      $D/haproxy.cfg

  Add or remove backends live, from another shell:
      make demo-scale N=5
      make demo-scale N=1
  Watch the traffic move:
      while sleep 0.2; do curl -s http://$HTTP/; done
  Reload by hand:
      $LEGATE_BIN/legate-init ctl -s $D/legate-init.sock reload haproxy

  Ctrl-C stops everything.

INFO
	# Until Ctrl-C, or until legate-init exits by itself.
	wait "${CHILDREN[1]}"
	say "legate-init exited"
}

case ${1:-start} in
start) start ;;
scale) scale "${2:-}" ;;
*) die "usage: scripts/demo.sh [start | scale N]" ;;
esac
