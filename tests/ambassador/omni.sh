# legate-test: timeout=300
# progrium/ambassadord's omni mode on the Docker engine: one ambassador,
# run in the network namespace of a container of its own (nsenter; the
# host's legate and HAProxy), with --setup-iptables; client containers
# (the local legate-base image) say where their port 6379 goes in
# BACKEND_6379.  Two clients with different values reach different
# backends (nginx on the bridge's gateway address), a client started
# after the ambassador is served from its first attempts (the time from
# `docker run` to its first proxied answer is printed), a port a client
# named no BACKEND for is refused at once, a stopped client's routes go,
# and the REDIRECT rule is added once (even when there already) and gone
# after the ambassador exits.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

[ -n "${LEGATE_NO_DOCKER:-}" ] && lg_skip "LEGATE_NO_DOCKER is set"
command -v docker > /dev/null || lg_skip "no docker client"
docker info > /dev/null 2>&1 || lg_skip "no Docker engine answers (docker info failed)"
. "$LEGATE_ROOT/tests/docker/images.bash"
lg_img_base || lg_fail "the legate-base:bookworm image could not be built"
[ "$(id -u)" = 0 ] || lg_skip "not root (nsenter and iptables)"
command -v nsenter > /dev/null && command -v iptables > /dev/null || lg_skip "no nsenter or iptables"

LABEL=legate-omni-test=$$
omni_cleanup() {
	local rc=$?
	set +e
	docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f > /dev/null 2>&1
	(exit $rc)
	lg_cleanup
}
trap omni_cleanup EXIT

IMG=legate-base:bookworm
# The bridge's address on the host (the network's gateway).
BR=$(docker network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}')
GW=$(ip -4 -o addr show dev "${BR:-docker0}" 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }')
[ -n "$GW" ] || lg_fail "no gateway address on Docker's bridge network"
lg_start_nginx alpha "$GW"
A=$NGINX_PORT
lg_start_nginx beta "$GW"
B=$NGINX_PORT

# The ambassador's network namespace: a container that only sleeps.
docker run -d --label "$LABEL" --name "legate-omni-amb-$$" "$IMG" sleep infinity > /dev/null
APID=$(docker inspect -f '{{.State.Pid}}' "legate-omni-amb-$$")
AIP=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "legate-omni-amb-$$")
in_ns() { nsenter --net="/proc/$APID/ns/net" "$@"; }
rules() { in_ns iptables -w -t nat -S PREROUTING | grep -c 'legate-ambassador-omni' || true; }

# omni_start NAME: the ambassador, its log in $T/NAME.log (AMB_LOG).
omni_start() {
	AMB_LOG=$T/$1.log
	lg_bg "$1" nsenter --net="/proc/$APID/ns/net" "$LEGATE_BIN/legate" ambassador \
		--run-dir "$T/run" --omnimode --setup-iptables
	AMB_PID=$LG_LAST_PID
	lg_wait 10 "HAProxy in the ambassador's namespace" grep -q 'haproxy: started' "$AMB_LOG"
}

# req CONTAINER PORT: one HTTP request from the container to the ambassador's
# address on PORT; prints the answer's body (its last line).
req() {
	docker exec "$1" bash -c "exec 3<>/dev/tcp/$AIP/$2 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3" 2>/dev/null || true
}

# A rule already there (a run that was killed): not added twice.
in_ns iptables -w -t nat -A PREROUTING -p tcp -m comment --comment legate-ambassador-omni \
	-j REDIRECT --to-ports 10000
omni_start ambassador1
[ "$(rules)" = 1 ] || lg_fail "REDIRECT rules after a start over a leftover one: $(rules)"
grep -q 'in place already' "$AMB_LOG" || lg_fail "the leftover rule is not noticed"
amb_stop
[ "$(rules)" = 0 ] || lg_fail "REDIRECT rules after the ambassador exited: $(rules)"
echo "--setup-iptables over a leftover rule: one rule; none after exit"

docker run -d --label "$LABEL" --name "legate-omni-c1-$$" -e "BACKEND_6379=$GW:$A" "$IMG" sleep infinity > /dev/null
docker run -d --label "$LABEL" --name "legate-omni-c2-$$" -e "BACKEND_6379=$GW:$B" -e "BACKEND_80=$GW:$A" \
	"$IMG" sleep infinity > /dev/null
C1IP=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "legate-omni-c1-$$")
omni_start ambassador2
[ "$(rules)" = 1 ] || lg_fail "REDIRECT rules: $(rules)"
lg_wait 10 "client 1 to reach alpha" sh -c "[ \"\$(docker exec legate-omni-c1-$$ bash -c \"exec 3<>/dev/tcp/$AIP/6379 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3\")\" = alpha ]"
[ "$(req "legate-omni-c1-$$" 6379)" = alpha ] || lg_fail "client 1, port 6379: not alpha"
[ "$(req "legate-omni-c2-$$" 6379)" = beta ] || lg_fail "client 2, port 6379: not beta"
[ "$(req "legate-omni-c2-$$" 80)" = alpha ] || lg_fail "client 2, port 80: not alpha"
echo "two clients, one ambassador: port 6379 reaches alpha from one, beta from the other"

# Port 80 from client 1, which names no BACKEND for it: refused at once.
rc=0
out=$(docker exec "legate-omni-c1-$$" timeout 5 bash -c \
	"exec 3<>/dev/tcp/$AIP/80 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && cat <&3" 2>&1) || rc=$?
[ $rc != 0 ] && [ $rc != 124 ] || lg_fail "a port with no BACKEND: exit $rc ($out)"
case $out in *alpha* | *beta*) lg_fail "a port with no BACKEND was served: $out" ;; esac
echo "a port with no BACKEND: refused ($out)"

reloads=$(grep -c 'HAProxy reloaded' "$AMB_LOG" || true)
# A client started now: served from its first attempts.  It tries every
# 20 ms from its start and prints the time of its first answer.
t0=$(date +%s%N)
docker run -d --label "$LABEL" --name "legate-omni-c3-$$" -e "BACKEND_6379=$GW:$B" "$IMG" bash -c \
	"until [ \"\$( (exec 3<>/dev/tcp/$AIP/6379 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3) 2>/dev/null)\" = beta ]; do sleep 0.02; done; date +%s%N; sleep infinity" \
	> /dev/null
lg_wait 20 "the new client's first answer" sh -c "docker logs legate-omni-c3-$$ 2>/dev/null | grep -q ."
t1=$(docker logs "legate-omni-c3-$$" 2>/dev/null | head -n 1)
ms=$(( (t1 - t0) / 1000000 ))
echo "a client started after the ambassador: first proxied answer $ms ms after docker run"
[ "$ms" -le "$AMB_LIMIT_MS" ] || lg_fail "the new client waited $ms ms (limit $AMB_LIMIT_MS)"

# A stopped client's routes go.
grep -q "^$C1IP:6379 " "$T/run/omni.map" || lg_fail "client 1's route is not in the map"
docker rm -f "legate-omni-c1-$$" > /dev/null
lg_wait 10 "client 1's route to go" sh -c "! grep -q '^$C1IP:6379 ' '$T/run/omni.map'"
[ "$(req "legate-omni-c2-$$" 6379)" = beta ] || lg_fail "client 2 after client 1 left: not beta"
echo "a stopped client's route is gone; the others still served"
# Clients of a backend that is there already come and go through the map
# (runtime API), not a reload.
grep -q "routes in HAProxy's map (runtime API, no reload)" "$AMB_LOG" || lg_fail "no map update through the runtime API"
[ "$(grep -c 'HAProxy reloaded' "$AMB_LOG" || true)" = "$reloads" ] ||
	lg_fail "a client of a known backend came or went with a reload"
echo "clients of known backends: map updates, no reload"

amb_alive
amb_stop
[ "$(rules)" = 0 ] || lg_fail "REDIRECT rules after the ambassador exited: $(rules)"
echo "the REDIRECT rule is gone after exit"
