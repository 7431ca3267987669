# legate-test: timeout=300
# The ambassador image (compose/ambassador.Dockerfile) as a drop-in for
# crewjam/ambassador: built on the local legate-base:bookworm image, run
# with crewjam's fleet-unit command line (program name first), traffic
# following the master, and "docker stop" ending it with exit 0.  Host
# networking, everything on 127.0.0.1.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

[ "${LEGATE_FLAVOR:-release}" = asan ] &&
	lg_skip "skipped in the sanitizer run: the image builds legate from source, without sanitizers"
[ -n "${LEGATE_NO_DOCKER:-}" ] && lg_skip "LEGATE_NO_DOCKER is set"
command -v docker > /dev/null || lg_skip "no docker client"
docker info > /dev/null 2>&1 || lg_skip "no Docker engine answers (docker info failed)"
. "$LEGATE_ROOT/tests/docker/images.bash"
lg_img_base || lg_fail "the legate-base:bookworm image could not be built"

IMG=legate-ambassador:test
docker build -q --build-arg BASE=legate-base:bookworm -f "$LEGATE_ROOT/compose/ambassador.Dockerfile" \
	-t "$IMG" "$LEGATE_ROOT" > "$T/build.log" 2>&1 || { cat "$T/build.log"; lg_fail "image build failed"; }
# The build stage and the image this build replaced, left dangling.
docker image prune -f --filter label=org.legate.stage=build > /dev/null 2>&1 || true

lg_start_etcd
lg_start_nginx alpha
A=$NGINX_PORT
lg_start_nginx beta
B=$NGINX_PORT
P=$(lg_ports 1)
lg_etcd_put /services/postgres/instances/1/private_ip "127.0.0.1:$A" >/dev/null
lg_etcd_put /services/postgres/instances/2/private_ip "127.0.0.1:$B" >/dev/null
lg_etcd_put /services/postgres/master 1 >/dev/null

NAME=legate-amb-test-$$
lg_bg docker docker run --rm --name "$NAME" --network host "$IMG" /bin/ambassador \
	--etcd-prefix=/services/postgres --master-only --etcd="$ETCD_ADDR" --port=5432 \
	--listen "127.0.0.1:$P"
DPID=$LG_LAST_PID
amb_expect "$P" alpha
[ "$(docker inspect -f '{{.State.Pid}}' "$NAME")" -gt 0 ] || lg_fail "no container"
# read whole first: under pipefail, grep -q leaving early can fail docker top with SIGPIPE
procs=$(docker top "$NAME")
grep -q 'haproxy -W -db' <<< "$procs" || lg_fail "no haproxy in the container"
t0=$(amb_now_ms); lg_etcd_put /services/postgres/master 2 >/dev/null
amb_switched "$P" beta "$t0"
t0=$(amb_now_ms); etcdctl del /services/postgres/master >/dev/null
amb_refusing "$P" "$t0"
docker stop -t 10 "$NAME" > /dev/null
rc=0
wait "$DPID" || rc=$?
[ $rc = 0 ] || lg_fail "the container exited $rc after docker stop"
lg_wait 10 "the container to go" sh -c "! docker inspect $NAME"
grep -q 'haproxy: stopped' "$T/docker.log" || lg_fail "haproxy was not stopped inside the container"
