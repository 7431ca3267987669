# legate-test: serial
# legate-test: timeout=900
# End to end on a Docker engine: the root docker-compose.yml with images
# built here (no registry is reachable), nginx scaled 1 -> 3 -> 1; after
# each step HAProxy (through its published port on 127.0.0.1) must serve
# exactly the nginx containers that run, and its stats must list exactly
# them.  Everything the test creates goes away with `compose down -v`
# whatever happens; the images stay, as the cache for the next run.
. "$LEGATE_ROOT/tests/lib.sh"

[ "${LEGATE_FLAVOR:-release}" = asan ] &&
	lg_skip "skipped in the sanitizer run: the image builds legate from source, without sanitizers (runs once, in the normal run)"
[ -n "${LEGATE_NO_DOCKER:-}" ] && lg_skip "LEGATE_NO_DOCKER is set"
command -v docker > /dev/null || lg_skip "no docker client"
docker info > /dev/null 2>&1 || lg_skip "no Docker engine answers (docker info failed)"
if docker compose version > /dev/null 2>&1; then
	COMPOSE=(docker compose)
elif command -v docker-compose > /dev/null; then
	COMPOSE=(docker-compose)
else
	lg_skip "neither docker compose nor docker-compose is installed"
fi

. "$LEGATE_ROOT/tests/docker/images.bash"

P=legate-e2e-$$
read -r -a ports <<< "$(lg_ports 4)"
export LEGATE_PUBLISH_ADDR=127.0.0.1
export LEGATE_HTTP_PORT=${ports[0]} LEGATE_STATS_PORT=${ports[1]}
export LEGATE_STATUS_PORT=${ports[2]} LEGATE_CONSUL_PORT=${ports[3]}
export LEGATE_BASE_IMAGE=$LG_BASE_IMAGE CONSUL_IMAGE=legate-consul:test
export NGINX_IMAGE=legate-nginx:test HAPROXY_IMAGE=legate-haproxy:test
HTTP=127.0.0.1:$LEGATE_HTTP_PORT
STATS=127.0.0.1:$LEGATE_STATS_PORT
CONSUL=127.0.0.1:$LEGATE_CONSUL_PORT

dc() { "${COMPOSE[@]}" -p "$P" -f "$LEGATE_ROOT/docker-compose.yml" "$@"; }

# Whatever happens: the project's containers, networks and volumes go.
e2e_cleanup() {
	local rc=$?
	set +e
	if [ -n "${UP:-}" ]; then
		dc logs --no-color > "$T/compose.log" 2>&1
		LG_LOGS+=("$T/compose.log")
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
# containers, deregisters the ones that are gone.
sync_registrations() {
	[ "$scale_reg" = 1 ] && return 0
	local id name ip want=" " have
	for id in $(docker ps -q --filter "label=com.docker.compose.project=$P" \
		--filter "label=com.docker.compose.service=nginx"); do
		name=$(docker inspect -f '{{.Name}}' "$id")
		name=${name#/}
		ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id")
		want+="e2e:$name:80 "
		curl -sf -X PUT "http://$CONSUL/v1/agent/service/register" --data-binary \
			"{\"ID\":\"e2e:$name:80\",\"Name\":\"web\",\"Address\":\"$ip\",\"Port\":80,\"Tags\":[\"haproxy\",\"haproxy-default\"]}" ||
			return 1
	done
	for have in $(curl -sf "http://$CONSUL/v1/agent/services" | grep -o '"e2e:[^"]*:80"' | tr -d '"' | sort -u); do
		[[ $want == *" $have "* ]] ||
			curl -sf -X PUT "http://$CONSUL/v1/agent/service/deregister/$have" || return 1
	done
}

# The nginx containers' host names (their short ids: what they answer).
live_backends() {
	local id
	for id in $(docker ps -q --filter "label=com.docker.compose.project=$P" \
		--filter "label=com.docker.compose.service=nginx"); do
		docker inspect -f '{{.Config.Hostname}}' "$id"
	done | sort
}

# served_backends: the host names that answer 40 requests through HAProxy.
served_backends() {
	local i
	for i in $(seq 40); do
		curl -sf -m 2 "http://$HTTP/" || echo "ERROR"
	done | sort -u
}

# stats_servers: the web backend's servers HAProxy reports UP.
stats_servers() {
	curl -sf "http://$STATS/;csv" | awk -F, '$1 == "web" && $2 != "FRONTEND" && $2 != "BACKEND" && $18 ~ /^UP/ { n++ } END { print n + 0 }'
}

converged() {
	local want=$1 live served
	sync_registrations || return 1
	live=$(live_backends)
	[ "$(printf '%s\n' "$live" | grep -c .)" = "$want" ] || return 1
	[ "$(stats_servers)" = "$want" ] || return 1
	served=$(served_backends)
	[ "$served" = "$live" ]
}

# scale_to N: compose scales nginx; returns once HAProxy serves exactly the
# live containers; prints how long that took.
scale_to() {
	local n=$1 start ms
	start=$(date +%s%N)
	dc up -d --no-build --no-recreate --scale nginx="$n" --scale registrator="$scale_reg" \
		> "$T/up.log" 2>&1 || { cat "$T/up.log" >&2; lg_fail "compose up --scale nginx=$n failed"; }
	UP=1
	lg_wait 90 "HAProxy serving exactly the $n live nginx containers" converged "$n"
	ms=$((($(date +%s%N) - start) / 1000000))
	echo "# nginx=$n: HAProxy serves exactly [$(live_backends | tr '\n' ' ')] ${ms} ms after compose up"
	TIMES+=("$n:${ms}ms")
}

TIMES=()
t1=$(date +%s)
UP=1
scale_to 1
t_up=$(($(date +%s) - t1))
scale_to 3
scale_to 1

# The legate-init tree in the HAProxy container, and legate's health.
hc=$(dc ps -q haproxy)
docker exec "$hc" legate-init ctl status > "$T/ctl.log" 2>&1 || lg_fail "legate-init ctl status failed: $(cat "$T/ctl.log")"
grep -q '^legate .*RUNNING' "$T/ctl.log" && grep -q '^haproxy .*RUNNING' "$T/ctl.log" ||
	lg_fail "programs not running: $(cat "$T/ctl.log")"
curl -sf "http://127.0.0.1:$LEGATE_STATUS_PORT/health" > /dev/null || lg_fail "legate's /health is not 200"
pid1=$(docker exec "$hc" cat /proc/1/comm)
[ "$pid1" = legate-init ] || lg_fail "PID 1 in the HAProxy container is $pid1"

echo "# e2e: images ${t_build}s, first up ${t_up}s, scale ${TIMES[*]}, total $(($(date +%s) - t0))s; registration by $REGISTRATOR"
