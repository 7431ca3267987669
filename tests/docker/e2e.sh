# legate-test: serial
# legate-test: timeout=900
# End to end on a Docker engine: the root docker-compose.yml with images
# built here (no registry is reachable), nginx scaled 1 -> 5 -> 1 while two
# request streams (wrk, one with keep-alive, one with a connection per
# request) run through HAProxy's published port on 127.0.0.1.  Every
# answer must be a 2xx and no connection may fail; after each step HAProxy
# must serve exactly the nginx containers that run (its UP servers are
# them, and requests are answered by exactly them) and list exactly them.
# The test prints how long each step took to get there and how many
# reloads it cost (the master's own counter, and legate's runtime applies):
# pure scaling costs none once the web backend exists, and the test fails
# if it does.  Everything the test creates goes away with `compose down
# -v` whatever happens; the images stay, as the cache for the next run.
#
# For measurements: LEGATE_E2E_CYCLES=N scales 1 -> 5 -> 1 N times (1),
# LEGATE_E2E_CONNS=N gives each stream N connections (8), and
# LEGATE_E2E_LOGDIR=DIR keeps the compose and wrk logs there.
. "$LEGATE_ROOT/tests/lib.sh"

[ "${LEGATE_FLAVOR:-release}" = asan ] &&
	lg_skip "skipped in the sanitizer run: the image builds legate from source, without sanitizers (runs once, in the normal run)"
[ -n "${LEGATE_NO_DOCKER:-}" ] && lg_skip "LEGATE_NO_DOCKER is set"
command -v docker > /dev/null || lg_skip "no docker client"
command -v wrk > /dev/null || lg_skip "wrk is not installed (make deps installs it)"
docker info > /dev/null 2>&1 || lg_skip "no Docker engine answers (docker info failed)"
if docker compose version > /dev/null 2>&1; then
	COMPOSE=(docker compose)
elif command -v docker-compose > /dev/null; then
	COMPOSE=(docker-compose)
else
	lg_skip "neither docker compose nor docker-compose is installed"
fi

. "$LEGATE_ROOT/tests/docker/images.bash"

# registrator registers every container on the engine that sets
# SERVICE_NAME, not only this project's: another one would join the web
# backend, and HAProxy could not serve exactly the test's containers.
others=$(docker ps -q | xargs -r docker inspect -f '{{.Name}}{{range .Config.Env}} {{.}}{{end}}' 2>/dev/null |
	awk '/ SERVICE_([A-Za-z0-9]+_)?NAME=/ { sub("^/", "", $1); printf "%s ", $1 }')
[ -z "$others" ] || lg_skip "other containers on this Docker engine set SERVICE_NAME (registrator would register them): $others"

P=legate-e2e-$$
read -r -a ports <<< "$(lg_ports 4)"
export LEGATE_PUBLISH_ADDR=127.0.0.1
export LEGATE_HTTP_PORT=${ports[0]} LEGATE_STATS_PORT=${ports[1]}
export LEGATE_STATUS_PORT=${ports[2]} LEGATE_CONSUL_PORT=${ports[3]}
export LEGATE_BASE_IMAGE=$LG_BASE_IMAGE CONSUL_IMAGE=legate-consul:test
export NGINX_IMAGE=legate-nginx:test HAPROXY_IMAGE=legate-haproxy:test
HTTP=127.0.0.1:$LEGATE_HTTP_PORT
STATS=127.0.0.1:$LEGATE_STATS_PORT
STATUS=127.0.0.1:$LEGATE_STATUS_PORT
CONSUL=127.0.0.1:$LEGATE_CONSUL_PORT

dc() { "${COMPOSE[@]}" -p "$P" -f "$LEGATE_ROOT/docker-compose.yml" "$@"; }

# Whatever happens: the project's containers, networks and volumes go.
e2e_cleanup() {
	local rc=$?
	set +e
	if [ -n "${UP:-}" ]; then
		dc logs --no-color > "$T/compose.log" 2>&1
		LG_LOGS+=("$T/compose.log")
		# LEGATE_E2E_LOGDIR: a directory that keeps the whole logs.
		[ -z "${LEGATE_E2E_LOGDIR:-}" ] || cp "$T"/*.log "$LEGATE_E2E_LOGDIR"/
		dc down -v --remove-orphans -t 5 > "$T/down.log" 2>&1 ||
			{ echo "compose down failed:"; cat "$T/down.log"; } >&2
	fi
	(exit $rc)
	lg_cleanup
}
trap e2e_cleanup EXIT

t0=$(date +%s)
lg_img_base || lg_fail "cannot build $LG_BASE_IMAGE"
lg_img_peers || lg_fail "cannot build the consul and nginx images"
lg_img_haproxy || lg_fail "cannot build the HAProxy image from compose/Dockerfile"
# registrator is built from the Go module proxy when the proxy has it; if
# not, the nginx containers are registered through Consul's agent API,
# the calls registrator makes (same ID shape, address on the compose
# network, exposed port, tags from SERVICE_TAGS).
if lg_img_registrator 2> "$T/registrator-build.log"; then
	REGISTRATOR=registrator
	export REGISTRATOR_IMAGE=legate-registrator:test
	scale_reg=1
else
	REGISTRATOR="agent API (registrator could not be built: $(grep -m1 -o 'reading https[^ ]*: [0-9]* [A-Za-z ]*' "$T/registrator-build.log" || tail -n 1 "$T/registrator-build.log"))"
	export REGISTRATOR_IMAGE=$LG_BASE_IMAGE
	scale_reg=0
fi
t_build=$(($(date +%s) - t0))
echo "# images ready in ${t_build}s; registration by $REGISTRATOR"

# The agent-API stand-in for registrator: registers running nginx
# containers, deregisters the ones that are gone (so, like registrator,
# only after they are gone).
sync_registrations() {
	[ "$scale_reg" = 1 ] && return 0
	local name host ip want=" " have
	while read -r name host; do
		ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$name")
		want+="e2e:$name:80 "
		curl -sf -X PUT "http://$CONSUL/v1/agent/service/register" --data-binary \
			"{\"ID\":\"e2e:$name:80\",\"Name\":\"web\",\"Address\":\"$ip\",\"Port\":80,\"Tags\":[\"haproxy\",\"haproxy-default\"]}" ||
			return 1
	done < <(live)
	for have in $(curl -sf "http://$CONSUL/v1/agent/services" | grep -o '"e2e:[^"]*:80"' | tr -d '"' | sort -u); do
		[[ $want == *" $have "* ]] ||
			curl -sf -X PUT "http://$CONSUL/v1/agent/service/deregister/$have" || return 1
	done
}

# live: "NAME HOSTNAME" for each running nginx container, sorted by name
# (the name is in registrator's service ID; the host name, the short
# container id, is what the container answers).  One call: a container
# may go between two.
live() {
	docker ps --filter "label=com.docker.compose.project=$P" --filter "label=com.docker.compose.service=nginx" \
		--format '{{.Names}} {{.ID}}' | sort
}

# stats_servers [UP]: the container names of the web backend's servers
# (the middle of registrator's "host:container:port" IDs), sorted; with
# UP, only those HAProxy reports UP.
stats_servers() {
	curl -sf -m 5 "http://$STATS/;csv" | awk -F, -v up="${1:-}" '
		$1 == "web" && $2 != "FRONTEND" && $2 != "BACKEND" && (up == "" || $18 ~ /^UP/) {
			n = split($2, id, ":"); name = id[1]
			for (i = 2; i < n; i++) name = (i == 2 ? id[i] : name ":" id[i])
			print name
		}' | sort
}

# served: the host names that answer 40 requests through HAProxy, sorted,
# or ERROR for a request that got no 200.
served() {
	local urls=() i
	for i in $(seq 40); do urls+=("http://$HTTP/"); done
	curl -s -m 10 -w ' %{http_code}\n' "${urls[@]}" | awk '
		/^ [0-9]+$/ { if ($1 != 200) print "ERROR"; next }
		{ print }' | sort -u
}

# master_reloads: the HAProxy master's own reload counter ("show proc" on
# the master CLI inside the container; the image has perl-base, no socat).
master_reloads() {
	docker exec "$hc" perl -MIO::Socket::UNIX -e '
		my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "$ARGV[0]: $!\n";
		print $s "show proc\n"; $s->shutdown(1);
		my $all = "";
		while (<$s>) { $all .= $_; if (/^\d+\s+master\s+(\d+)/) { print "$1\n"; exit 0 } }
		die "no master line in: $all\n"' /run/haproxy/master.sock
}

# metric NAME: one of legate's counters for haproxy.cfg, from /metrics.
metric() {
	# awk reads to the end: an early exit would fail curl (and the pipe).
	curl -sSf -m 5 "http://$STATUS/metrics" | awk -v m="$1" '!f && $1 ~ "^" m "[{ ]" { print $2; f = 1 }
		END { if (!f) { print "no " m " in /metrics" > "/dev/stderr"; exit 1 } }'
}

# counters: "master confirmed applies", now (tried a few times: a read can
# fail while the master re-executes).
counters() {
	local m c a i
	for i in 1 2 3 4 5; do
		m=$(master_reloads 2>> "$T/counters.err") && c=$(metric legate_haproxy_reloads_confirmed_total 2>> "$T/counters.err") &&
			a=$(metric legate_haproxy_runtime_applies_total 2>> "$T/counters.err") &&
			echo "$m $c $a" && return 0
		sleep 0.5
	done
	echo "cannot read the reload counters: $(tail -n 3 "$T/counters.err")" >&2
	return 1
}

# step_check N: sets SERVES and LISTS to 1 when HAProxy's UP servers are
# exactly the N live containers and answers come from exactly them, and
# when the web backend lists exactly them (removed ones drained and gone).
step_check() {
	local want=$1 names hosts
	SERVES=0 LISTS=0
	sync_registrations || return 0
	live > "$T/live"
	[ "$(grep -c . "$T/live")" = "$want" ] || return 0
	names=$(cut -d' ' -f1 "$T/live")
	hosts=$(cut -d' ' -f2 "$T/live" | sort)
	[ "$(stats_servers)" = "$names" ] && LISTS=1
	[ "$(stats_servers UP)" = "$names" ] && [ "$(served)" = "$hosts" ] && SERVES=1
	return 0
}

# scale_to N: compose scales nginx while the test watches HAProxy; returns
# once HAProxy serves and lists exactly the live containers, and prints
# how long each took from the start of `compose up`, and what the step
# cost in reloads.
scale_to() {
	local n=$1 start now t_serve= t_list= t_up= c0="0 0 0" c1 up_pid up_rc
	# Before the first step nothing runs yet, and nothing has been counted.
	[ -z "${hc:-}" ] || c0=$(counters 2> "$T/counters.why") || lg_fail "nginx=$n: $(cat "$T/counters.why")"
	start=$(date +%s%N)
	dc up -d --no-build --no-recreate --scale nginx="$n" --scale registrator="$scale_reg" \
		> "$T/up.log" 2>&1 &
	up_pid=$!
	while :; do
		now=$(date +%s%N)
		[ $(((now - start) / 1000000000)) -lt 120 ] ||
			lg_fail "nginx=$n: after 120 s HAProxy serves [$(stats_servers UP | tr '\n' ' ')], lists [$(stats_servers | tr '\n' ' ')]; live: [$(live | cut -d' ' -f1 | tr '\n' ' ')]"
		if [ -z "$t_up" ] && ! lg_alive "$up_pid"; then
			wait "$up_pid" && up_rc=0 || up_rc=$?
			[ "$up_rc" = 0 ] || { cat "$T/up.log" >&2; lg_fail "compose up --scale nginx=$n failed"; }
			t_up=$(((now - start) / 1000000))
			hc=$(dc ps -q haproxy)
		fi
		step_check "$n"
		[ "$SERVES" = 1 ] && [ -z "$t_serve" ] && t_serve=$(((now - start) / 1000000))
		[ "$LISTS" = 1 ] && [ -z "$t_list" ] && t_list=$(((now - start) / 1000000))
		[ -n "$t_serve" ] && [ -n "$t_list" ] && [ -n "$t_up" ] && break
		sleep 0.1
	done
	c1=$(counters 2> "$T/counters.why") || lg_fail "nginx=$n: $(cat "$T/counters.why")"
	read -r m0 r0 a0 <<< "$c0"
	read -r m1 r1 a1 <<< "$c1"
	STEP_RELOADS=$((m1 - m0))
	echo "# nginx=$n: HAProxy serves exactly [$(cut -d' ' -f1 "$T/live" | tr '\n' ' ')] after ${t_serve} ms," \
		"lists exactly them after ${t_list} ms (compose up returned after ${t_up} ms);" \
		"master reloads +$STEP_RELOADS, legate's confirmed reloads +$((r1 - r0)), runtime applies +$((a1 - a0))"
	TIMES+=("$n:${t_serve}ms")
	RELOADS+=("$n:$STEP_RELOADS")
}

# A wrk script that counts every answer that is not a 2xx (wrk itself
# counts only those >= 400) and prints the count with wrk's socket errors.
cat > "$T/count.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
	if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
	local n = 0
	for _, t in ipairs(threads) do n = n + t:get("bad") end
	local e = summary.errors
	io.write(string.format("STREAM requests=%d non2xx=%d errors=%d connect=%d read=%d write=%d timeout=%d max_ms=%d\n",
		summary.requests, n, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write,
		e.timeout, latency.max / 1000))
end
LUA

# stream NAME [wrk args]: a request stream through HAProxy until stopped.
stream() {
	local name=$1
	shift
	lg_bg "$name" wrk -t1 -c"${LEGATE_E2E_CONNS:-8}" -d3600s --timeout 10s -s "$T/count.lua" "$@" "http://$HTTP/"
	STREAMS+=("$name:$LG_LAST_PID")
}

TIMES=() RELOADS=() STREAMS=()
t1=$(date +%s)
UP=1
hc=
scale_to 1
t_up=$(($(date +%s) - t1))

# The streams: keep-alive, and a new connection for every request.
stream keepalive
stream close -H "Connection: close"
sleep 2
for ((cycle = 1; cycle <= ${LEGATE_E2E_CYCLES:-1}; cycle++)); do
	scale_to 5
	[ "$STEP_RELOADS" = 0 ] || lg_fail "scaling 1 -> 5 cost $STEP_RELOADS master reloads (pure membership changes cost none)"
	scale_to 1
	[ "$STEP_RELOADS" = 0 ] || lg_fail "scaling 5 -> 1 cost $STEP_RELOADS master reloads (pure membership changes cost none)"
done
sleep 2
failed=
for s in "${STREAMS[@]}"; do
	name=${s%%:*} pid=${s#*:}
	lg_alive "$pid" || lg_fail "wrk ($name) ended early: $(tail -n 5 "$T/$name.log")"
	kill -INT "$pid"
	wait "$pid" || lg_fail "wrk ($name) exited $?"
	line=$(grep '^STREAM ' "$T/$name.log") || lg_fail "wrk ($name) printed no summary: $(tail -n 5 "$T/$name.log")"
	echo "# stream $name: ${line#STREAM }"
	if [[ $line == *" requests=0 "* ]]; then lg_fail "wrk ($name) sent no request"; fi
	[[ $line == *" non2xx=0 errors=0 "* ]] || failed+=" $name"
done
if [ -n "$failed" ]; then
	# HAProxy logs only the unusual requests (dontlog-normal): the failed
	# ones, and those that needed a retry.
	echo "# HAProxy's log of requests that were not answered 200:"
	dc logs --no-color haproxy 2>&1 | grep '"[A-Z]* /' | grep -v ' 200 ' | head -n 20
	lg_fail "requests failed in the stream(s):$failed"
fi

# The legate-init tree in the HAProxy container, and legate's health.
docker exec "$hc" legate-init ctl status > "$T/ctl.log" 2>&1 || lg_fail "legate-init ctl status failed: $(cat "$T/ctl.log")"
grep -q '^legate .*RUNNING' "$T/ctl.log" && grep -q '^haproxy .*RUNNING' "$T/ctl.log" ||
	lg_fail "programs not running: $(cat "$T/ctl.log")"
curl -sf "http://$STATUS/health" > /dev/null || lg_fail "legate's /health is not 200"
pid1=$(docker exec "$hc" cat /proc/1/comm)
[ "$pid1" = legate-init ] || lg_fail "PID 1 in the HAProxy container is $pid1"

echo "# e2e: images ${t_build}s, first up ${t_up}s, serving after ${TIMES[*]}, master reloads ${RELOADS[*]}, total $(($(date +%s) - t0))s; registration by $REGISTRATOR"
