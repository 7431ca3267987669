# tests/lib.sh: sourced by every scripted test.  Starts real servers (Consul,
# etcd, HAProxy, nginx) on 127.0.0.1 with free ports, waits until each
# answers, and stops them and removes the test's temp dir whatever happens:
# success, failure, or an interrupt.  On failure the servers' logs are shown.
#
#   . "$LEGATE_ROOT/tests/lib.sh"
#   lg_start_consul [ARGS]     sets CONSUL_HTTP_ADDR, CONSUL_DNS_PORT; which agent:
#                              LEGATE_CONSUL=old|new|PATH (lg_consul_bin)
#   lg_stop_consul, lg_run_consul   an outage, and the agent back on its ports
#   lg_start_consul_client     a client agent joined to it; sets CONSUL_CLIENT_ADDR
#   lg_agent_conns PORT        connections the agent on PORT holds (its side)
#   lg_stop_etcd, lg_run_etcd       the same for etcd (which keeps its data)
#   lg_start_etcd              sets ETCD_ADDR, ETCDCTL_ENDPOINTS
#   lg_start_nginx NAME [HOST] sets NGINX_PORT; serves "NAME" at / (on 127.0.0.1, or HOST: "[::1]")
#   lg_start_haproxy CFG       sets HAPROXY_PID (master), HAPROXY_SOCK (master CLI)
#   lg_fail MESSAGE            fails the test now
#   lg_grepq ARGS              grep -q for pipelines (reads its input to the end)
set -euo pipefail

: "${LEGATE_ROOT:?run tests through tests/run or make check}"
: "${LEGATE_BIN:=$LEGATE_ROOT/bin}"
: "${LEGATE_BUILD:=$LEGATE_ROOT/build/release}"
: "${LEGATE_TOOLS:=$LEGATE_BUILD/tests/tools}"
: "${LEGATE_SHARED:=$(cd "$LEGATE_ROOT/.." && pwd)/shared}"
export LEGATE_ROOT LEGATE_BIN LEGATE_BUILD LEGATE_TOOLS LEGATE_SHARED

T=$(mktemp -d "${TMPDIR:-/tmp}/lg.XXXXXX")
LG_PIDS=()        # servers and helpers to stop, in start order
LG_LOGS=()        # logs to show on failure
LG_AFTER_STOP=()  # functions run once they are stopped (e.g. to delete namespaces)

lg_log() { printf '# %s\n' "$*" >&2; }

# lg_untime: a filter that drops the RFC 3339 time opening legate's and
# legate-init's log lines, for tests that compare whole lines.
lg_untime() { sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}) //'; }

# lg_grepq [GREP-ARGS] PATTERN: grep -q that reads its input to the end.
# Under pipefail, a plain `cmd | grep -q` fails now and then: grep leaves at
# the first match and cmd, still writing, dies of SIGPIPE.
lg_grepq() {
	local rc=0
	grep -q "$@" || rc=$?
	cat > /dev/null
	return "$rc"
}

lg_fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# Stops everything in reverse start order: SIGTERM, up to 5 s, then SIGKILL.
lg_cleanup() {
	local rc=$? i pid n
	trap - EXIT INT TERM
	set +e
	for ((i = ${#LG_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${LG_PIDS[i]}
		kill -TERM "$pid" 2>/dev/null || continue
	done
	for ((n = 0; n < 50; n++)); do
		local alive=0
		for pid in "${LG_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for pid in "${LG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	for h in ${LG_AFTER_STOP[@]+"${LG_AFTER_STOP[@]}"}; do
		"$h"
	done
	# A sanitizer report from any program the test ran fails the test.
	for f in "${LG_LOGS[@]}"; do
		if [ -f "$f" ] && grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
			printf 'FAIL: sanitizer report in %s\n' "${f#"$T"/}" >&2
			[ $rc = 0 ] || [ $rc = 77 ] && rc=1
		fi
	done
	if [ $rc != 0 ] && [ $rc != 77 ]; then
		for f in "${LG_LOGS[@]}"; do
			[ -s "$f" ] || continue
			printf -- '--- %s (last 40 lines)\n' "${f#"$T"/}" >&2
			tail -n 40 "$f" >&2
		done
	fi
	rm -rf "$T"
	exit $rc
}
trap lg_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

lg_skip() {
	echo "$*"
	exit 77
}

# lg_ports N: prints N distinct free loopback ports.
lg_ports() { "$LEGATE_TOOLS/freeport" "${1:-1}"; }

# lg_wait SECONDS DESCRIPTION CMD...: retries CMD every 0.1 s until it
# succeeds, or fails the test naming what it waited for.
lg_wait() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	lg_fail "timed out after ${secs}s waiting for $what"
}

# lg_bg NAME CMD...: starts CMD in the background, output to $T/NAME.log.
lg_bg() {
	local name=$1
	shift
	"$@" > "$T/$name.log" 2>&1 &
	LG_PIDS+=($!)
	LG_LOGS+=("$T/$name.log")
	LG_LAST_PID=$!
}

lg_alive() { kill -0 "$1" 2>/dev/null; }

# --- Consul -----------------------------------------------------------------

# Which agent the tests run: LEGATE_CONSUL=old (Debian's consul in PATH, the
# default), new (the one scripts/consul-new.sh builds into its cache), or
# the path of a consul binary.  lg_consul_bin sets LG_CONSUL (the binary)
# and LG_CONSUL_VERSION (e.g. 1.14.11) once, and says which it is in the
# test's log; a missing new agent skips the test with the build's reason.
lg_consul_bin() {
	local why
	[ -n "${LG_CONSUL:-}" ] && return 0
	case ${LEGATE_CONSUL:-old} in
	old)
		LG_CONSUL=$(command -v consul) || lg_fail "no consul in PATH (make deps installs it)" ;;
	new)
		LG_CONSUL=$(sh "$LEGATE_ROOT/scripts/consul-new.sh" --path)
		if ! [ -x "$LG_CONSUL" ]; then
			why=$(head -n 1 "$(dirname "$LG_CONSUL")/build.failed" 2>/dev/null || true)
			lg_skip "no new consul at $LG_CONSUL (${why:-not built}; make deps builds it)"
		fi ;;
	*)
		LG_CONSUL=$LEGATE_CONSUL
		[ -x "$LG_CONSUL" ] || lg_fail "LEGATE_CONSUL=$LG_CONSUL: not an executable (old, new or a path)" ;;
	esac
	LG_CONSUL_VERSION=${LEGATE_CONSUL_VERSION:-$("$LG_CONSUL" version | sed -n '1s/^Consul v//p')}
	[ -n "$LG_CONSUL_VERSION" ] || lg_fail "$LG_CONSUL: no version from '$LG_CONSUL version'"
	lg_log "consul $LG_CONSUL_VERSION ($LG_CONSUL)"
}

# lg_consul_banner: one line on stdout naming the agent, for benchmarks.
lg_consul_banner() {
	lg_consul_bin
	echo "(Consul $LG_CONSUL_VERSION: $LG_CONSUL; LEGATE_CONSUL=old|new|PATH picks the agent)"
}

# lg_consul_at_least MAJOR.MINOR: is the chosen agent that version or newer?
lg_consul_at_least() {
	local want_major=${1%%.*} want_minor=${1#*.} major minor
	lg_consul_bin
	IFS=. read -r major minor _ <<< "$LG_CONSUL_VERSION"
	[ "$major" -gt "$want_major" ] || { [ "$major" = "$want_major" ] && [ "$minor" -ge "$want_minor" ]; }
}

# A dev agent with every port moved off its default and gRPC off.  Extra
# arguments (e.g. -hcl '...') go to the agent, at every (re)start.
lg_start_consul() {
	LG_CONSUL_EXTRA=("$@")
	lg_pick_consul_ports
	lg_run_consul
}

# lg_pick_consul_ports [N]: chooses the agent's ports and sets
# CONSUL_HTTP_ADDR without starting it (for tests that start a client
# first); N more free ports, distinct from those, go to LG_MORE_PORTS.
lg_pick_consul_ports() {
	local p
	read -r -a p <<< "$(lg_ports $((5 + ${1:-0})))"
	LG_MORE_PORTS=("${p[@]:5}")
	CONSUL_HTTP_PORT=${p[0]}
	CONSUL_DNS_PORT=${p[1]}
	CONSUL_SERF_LAN_PORT=${p[2]}
	CONSUL_SERF_WAN_PORT=${p[3]}
	CONSUL_SERVER_PORT=${p[4]}
	export CONSUL_HTTP_ADDR=127.0.0.1:$CONSUL_HTTP_PORT
	export CONSUL_DNS_PORT
}

# lg_consul_dev_args: sets LG_CONSUL_ARGS, the dev agent's command line on
# the ports chosen before.  1.14 and later open a gRPC-TLS listener in dev
# mode (8503, so two agents collide); older agents do not know its flag.
lg_consul_dev_args() {
	lg_consul_bin
	LG_CONSUL_ARGS=("$LG_CONSUL" agent -dev -node=legate-test -bind=127.0.0.1 -client=127.0.0.1
		-http-port="$CONSUL_HTTP_PORT" -dns-port="$CONSUL_DNS_PORT"
		-serf-lan-port="$CONSUL_SERF_LAN_PORT" -serf-wan-port="$CONSUL_SERF_WAN_PORT"
		-server-port="$CONSUL_SERVER_PORT" -grpc-port=-1 -log-level=warn)
	lg_consul_at_least 1.14 && LG_CONSUL_ARGS+=(-grpc-tls-port=-1)
	return 0
}

# lg_run_consul: (re)starts the dev agent on the ports chosen before, with
# the extra arguments lg_start_consul was given (or LG_CONSUL_EXTRA).  A dev
# agent keeps its data in memory: after a restart the catalog is empty.
# With ACLs on, set LG_CONSUL_TOKEN so that the readiness check may read.
lg_run_consul() {
	local log=consul hdr=()
	[ -n "${CONSUL_PID:-}" ] && log=consul-again   # keep the first run's log
	[ -n "${LG_CONSUL_TOKEN:-}" ] && hdr=(-H "X-Consul-Token: $LG_CONSUL_TOKEN")
	lg_consul_dev_args
	lg_bg "$log" "${LG_CONSUL_ARGS[@]}" ${LG_CONSUL_EXTRA[@]+"${LG_CONSUL_EXTRA[@]}"}
	CONSUL_PID=$LG_LAST_PID
	# Ready when there is a leader and the node itself is in the catalog.
	lg_wait 30 "consul $LG_CONSUL_VERSION leader on $CONSUL_HTTP_ADDR" \
		lg_consul_has_node "${hdr[@]+"${hdr[@]}"}"
}

lg_consul_has_node() {
	curl -sf "$@" "http://$CONSUL_HTTP_ADDR/v1/catalog/nodes" | lg_grepq legate-test
}

# lg_start_consul_client: a client agent (not dev mode: a data dir, no
# server) named legate-client, joined to the dev agent started before; sets
# CONSUL_CLIENT_ADDR and CONSUL_CLIENT_PID.  Clients of 1.10 and later
# answer blocking health queries from the streaming backend.
lg_start_consul_client() {
	local p
	read -r -a p <<< "$(lg_ports 5)"
	CONSUL_CLIENT_ADDR=127.0.0.1:${p[0]}
	mkdir -p "$T/consul-client"
	LG_CONSUL_CLIENT_ARGS=("$LG_CONSUL" agent -node=legate-client -bind=127.0.0.1 -client=127.0.0.1
		-data-dir="$T/consul-client" -retry-join="127.0.0.1:$CONSUL_SERF_LAN_PORT"
		-http-port="${p[0]}" -dns-port="${p[1]}" -serf-lan-port="${p[2]}" -serf-wan-port="${p[3]}"
		-server-port="${p[4]}" -grpc-port=-1 -log-level=warn)
	lg_consul_at_least 1.14 && LG_CONSUL_CLIENT_ARGS+=(-grpc-tls-port=-1)
	lg_bg consul-client "${LG_CONSUL_CLIENT_ARGS[@]}"
	CONSUL_CLIENT_PID=$LG_LAST_PID
	lg_wait 30 "consul client agent on $CONSUL_CLIENT_ADDR in the catalog" \
		sh -c "curl -sf http://$CONSUL_CLIENT_ADDR/v1/catalog/nodes | grep -q legate-client"
}

# lg_stop_consul [SIGNAL]: stops the agent (default SIGKILL: an outage).
lg_stop_consul() {
	kill "-${1:-KILL}" "$CONSUL_PID" 2>/dev/null || true
	wait "$CONSUL_PID" 2>/dev/null || true
}

# lg_consul METHOD PATH [DATA]: one call to the agent's HTTP API.
lg_consul() {
	local method=$1 path=$2
	if [ $# -ge 3 ]; then
		curl -sSf -X "$method" --data-binary "$3" "http://$CONSUL_HTTP_ADDR$path"
	else
		curl -sSf -X "$method" "http://$CONSUL_HTTP_ADDR$path"
	fi
}

# lg_compact: JSON on stdin with all white space removed, for grep.
lg_compact() { tr -d ' \t\n'; }

# lg_consul_register ID NAME PORT [TAGS_JSON]: as registrator does.
lg_consul_register() {
	local tags=${4:-[]}
	lg_consul PUT /v1/agent/service/register \
		"{\"ID\":\"$1\",\"Name\":\"$2\",\"Address\":\"127.0.0.1\",\"Port\":$3,\"Tags\":$tags}"
}

lg_consul_deregister() { lg_consul PUT "/v1/agent/service/deregister/$1"; }

# lg_agent_conns PORT: the agent's ends of the TCP connections to its port
# PORT, established or closed by the client but not yet by the agent
# (CLOSE-WAIT): what the agent's per-client connection limit counts.
lg_agent_conns() {
	ss -tnH state established state close-wait "( sport = :$1 )" | wc -l
}

# --- etcd -------------------------------------------------------------------

# One member with a temporary data dir, v3 (and its JSON gateway) and v2.
# lg_start_etcd [ARGS]: more etcd flags; ETCD_SCHEME=https (set before) serves
# TLS, and ETCD_CURL (an array) holds the curl flags that reach it then.
lg_start_etcd() {
	local p
	read -r -a p <<< "$(lg_ports 2)"
	ETCD_PORT=${p[0]}
	ETCD_PEER_PORT=${p[1]}
	ETCD_EXTRA=("$@")
	: "${ETCD_SCHEME:=http}"
	[ -n "${ETCD_CURL+x}" ] || ETCD_CURL=()
	export ETCD_ADDR=127.0.0.1:$ETCD_PORT
	export ETCDCTL_ENDPOINTS=$ETCD_SCHEME://$ETCD_ADDR
	export ETCDCTL_API=3
	mkdir -p "$T/etcd"
	lg_run_etcd
}

# lg_run_etcd: (re)starts etcd on the ports and data dir chosen before; it
# keeps its data across a restart.  lg_stop_etcd: an outage (SIGKILL).
lg_run_etcd() {
	local log=etcd
	[ -n "${ETCD_PID:-}" ] && log=etcd-again   # keep the first run's log
	lg_bg "$log" etcd --name legate-test --data-dir "$T/etcd" \
		--listen-client-urls "$ETCD_SCHEME://$ETCD_ADDR" --advertise-client-urls "$ETCD_SCHEME://$ETCD_ADDR" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "legate-test=http://127.0.0.1:$ETCD_PEER_PORT" \
		--enable-v2=true --logger=zap --log-level=warn ${ETCD_EXTRA[@]+"${ETCD_EXTRA[@]}"}
	ETCD_PID=$LG_LAST_PID
	lg_wait 30 "etcd on $ETCD_ADDR" lg_etcd_healthy
}
lg_etcd_healthy() {
	curl -sf ${ETCD_CURL[@]+"${ETCD_CURL[@]}"} "$ETCD_SCHEME://$ETCD_ADDR/health" | lg_grepq true
}

lg_stop_etcd() {
	kill -KILL "$ETCD_PID" 2>/dev/null || true
	wait "$ETCD_PID" 2>/dev/null || true
}

# lg_etcd_put KEY VALUE / lg_etcd_get KEY: through the v3 JSON gateway.
lg_b64() { printf '%s' "$1" | base64 -w0; }
lg_etcd_put() {
	curl -sSf ${ETCD_CURL[@]+"${ETCD_CURL[@]}"} "${ETCD_SCHEME:-http}://$ETCD_ADDR/v3/kv/put" \
		-d "{\"key\":\"$(lg_b64 "$1")\",\"value\":\"$(lg_b64 "$2")\"}"
}
lg_etcd_get() {
	curl -sSf "http://$ETCD_ADDR/v3/kv/range" -d "{\"key\":\"$(lg_b64 "$1")\"}" |
		sed -n 's/.*"value":"\([^"]*\)".*/\1/p' | base64 -d
}

# --- nginx ------------------------------------------------------------------

# lg_nginx_conf DIR LISTEN LINES: writes DIR/nginx.conf for an nginx of the
# tests' own (its files, logs and temp folders under DIR), one server on
# LISTEN ("host:port" and any listen options) with LINES inside it.
lg_nginx_conf() {
	local d=$1
	mkdir -p "$d/html" "$d/logs" "$d/tmp"
	cat > "$d/nginx.conf" <<CONF
daemon off;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
pid $d/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $d/tmp;
	proxy_temp_path $d/tmp;
	fastcgi_temp_path $d/tmp;
	uwsgi_temp_path $d/tmp;
	scgi_temp_path $d/tmp;
	server {
		listen $2;
		location / { root $d/html; }
$3
	}
}
CONF
}

# lg_start_nginx NAME [HOST]: a backend that answers "NAME" at /, on
# 127.0.0.1 or HOST (an IPv6 literal in brackets).
lg_start_nginx() {
	local name=$1 host=${2:-127.0.0.1} d=$T/nginx-$1
	NGINX_PORT=$(lg_ports 1)
	lg_nginx_conf "$d" "$host:$NGINX_PORT" '		location /health { return 200 "ok\n"; }'
	printf '%s\n' "$name" > "$d/html/index.html"
	lg_bg "nginx-$name" nginx -p "$d" -c "$d/nginx.conf" -e stderr
	NGINX_PID=$LG_LAST_PID
	lg_wait 10 "nginx $name on port $NGINX_PORT" curl -sf "http://$host:$NGINX_PORT/health"
}

# --- HAProxy ----------------------------------------------------------------

# lg_start_haproxy CFG: master-worker in the foreground, master CLI on a
# unix socket; ready when the master answers "show proc".
lg_start_haproxy() {
	HAPROXY_SOCK=$T/haproxy-master.sock
	lg_bg haproxy haproxy -W -db -f "$1" -S "$HAPROXY_SOCK"
	HAPROXY_PID=$LG_LAST_PID
	lg_wait 10 "haproxy master socket" test -S "$HAPROXY_SOCK"
}
