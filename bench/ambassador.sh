# bench/ambassador: what the ambassador adds to a connection, in one run:
# connection setup (connect, one request, its answer; p50 over N rounds)
# directly and through `legate ambassador` with a plain forward, with Redis
# AUTH added for the client (the Lua actions), and with TLS to the backend;
# then omni mode on the Docker engine: the same direct and through the omni
# listener (from a client container's network namespace), and the time
# from `docker run` of a new client to its first proxied answer.
# The omni part is left out with LEGATE_NO_DOCKER=1 or without an engine
# and the legate-base:bookworm image.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

N=${BENCH_ROUNDS:-500}
RUNS=${BENCH_DOCKER_RUNS:-5}
CL=$LEGATE_TOOLS/connlat
HTTP='GET / HTTP/1.0\r\n\r\n'
row() { printf '%-58s %8s %8s %8s\n' "$1" "$2" "$3" "$4"; }
# lat LABEL HOST PORT REQUEST EXPECT [PREFIX...]: one row, p50 p90 p99.
lat() {
	local label=$1 host=$2 port=$3 req=$4 exp=$5 out
	shift 5
	out=$("$@" "$CL" "$host" "$port" "$N" "$req" "$exp") || { row "$label" failed "" ""; return 0; }
	read -r p50 p90 p99 _ _ <<< "$out"
	row "$label" "$p50" "$p90" "$p99"
}

cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ca -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=backend.test -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:backend.test,IP:127.0.0.1\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
	-out server.pem 2>/dev/null
cd - > /dev/null

lg_start_nginx alpha
A=$NGINX_PORT
TP=$(lg_ports 1)
d=$T/nginx-tls
lg_nginx_conf "$d" "127.0.0.1:$TP ssl" "		ssl_certificate $T/server.pem;
		ssl_certificate_key $T/server.key;"
echo alpha > "$d/html/index.html"
lg_bg nginx-tls nginx -p "$d" -c "$d/nginx.conf" -e stderr
RP=$(lg_ports 1)
lg_bg redis redis-server --port "$RP" --bind 127.0.0.1 --requirepass benchpw --save '' --appendonly no --dir "$T"
lg_wait 10 "redis" sh -c "redis-cli -p $RP ping 2>&1 | grep -q NOAUTH"
read -r P1 P2 P3 P4 <<< "$(lg_ports 4)"

amb_start --listen "127.0.0.1:$P1" "127.0.0.1:$A"
amb_expect "$P1" alpha
P1PID=$AMB_PID
lg_bg amb2 "$LEGATE_BIN/legate" ambassador --run-dir "$T/run2" --listen "127.0.0.1:$P2" --auth redis \
	--password benchpw "127.0.0.1:$RP"
lg_bg amb3 "$LEGATE_BIN/legate" ambassador --run-dir "$T/run3" --listen "127.0.0.1:$P3" "127.0.0.1:$RP"
lg_bg amb4 "$LEGATE_BIN/legate" ambassador --run-dir "$T/run4" --listen "127.0.0.1:$P4" \
	--tls-ca "$T/ca.pem" --tls-server-name backend.test "127.0.0.1:$TP"
lg_wait 10 "redis through the ambassador" sh -c "[ \"\$(redis-cli -p $P2 ping)\" = PONG ]"
lg_wait 10 "redis through the plain forward" sh -c "[ \"\$(redis-cli -p $P3 ping 2>&1)\" != '' ]"
amb_expect "$P4" alpha

echo "# connection setup: connect, one request, its answer; $N rounds each, milliseconds"
row "path" p50 p90 p99
lat "HTTP, direct" 127.0.0.1 "$A" "$HTTP" alpha
lat "HTTP, through the ambassador" 127.0.0.1 "$P1" "$HTTP" alpha
lat "HTTP, through the ambassador, TLS to the backend" 127.0.0.1 "$P4" "$HTTP" alpha
lat "Redis, direct, the client sends AUTH and PING" 127.0.0.1 "$RP" 'AUTH benchpw\r\nPING\r\n' '+PONG'
lat "Redis, ambassador, the client sends AUTH and PING" 127.0.0.1 "$P3" 'AUTH benchpw\r\nPING\r\n' '+PONG'
lat "Redis, ambassador adds AUTH (Lua), the client sends PING" 127.0.0.1 "$P2" 'PING\r\n' '+PONG'

# --- omni mode
if [ -n "${LEGATE_NO_DOCKER:-}" ] || ! docker info > /dev/null 2>&1 ||
	! docker image inspect legate-base:bookworm > /dev/null 2>&1; then
	echo "# omni mode: skipped (LEGATE_NO_DOCKER, no engine, or no legate-base:bookworm image)"
	exit 0
fi
LABEL=legate-omni-bench=$$
bench_cleanup() {
	local rc=$?
	set +e
	docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f > /dev/null 2>&1
	(exit $rc)
	lg_cleanup
}
trap bench_cleanup EXIT
IMG=legate-base:bookworm
BR=$(docker network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}')
GW=$(ip -4 -o addr show dev "${BR:-docker0}" | awk '{ sub("/.*", "", $4); print $4; exit }')
lg_start_nginx omni-alpha "$GW"
B=$NGINX_PORT
docker run -d --label "$LABEL" --name "legate-omni-bench-amb-$$" "$IMG" sleep infinity > /dev/null
APID=$(docker inspect -f '{{.State.Pid}}' "legate-omni-bench-amb-$$")
AIP=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "legate-omni-bench-amb-$$")
lg_bg omni nsenter --net="/proc/$APID/ns/net" "$LEGATE_BIN/legate" ambassador --run-dir "$T/run-omni" \
	--omnimode --setup-iptables
lg_wait 10 "the omni ambassador" grep -q 'haproxy: started' "$T/omni.log"
docker run -d --label "$LABEL" --name "legate-omni-bench-c-$$" -e "BACKEND_6379=$GW:$B" "$IMG" sleep infinity > /dev/null
CPID=$(docker inspect -f '{{.State.Pid}}' "legate-omni-bench-c-$$")
lg_wait 10 "the client's route" grep -q "BACKEND $GW:$B" "$T/run-omni/haproxy.cfg"
sleep 0.5
echo
echo "# omni mode, from a client container's network namespace; $N rounds each, milliseconds"
row "path" p50 p90 p99
lat "HTTP, direct to the backend" "$GW" "$B" "$HTTP" omni-alpha nsenter --net="/proc/$CPID/ns/net"
lat "HTTP, through the omni ambassador (REDIRECT, route by source)" "$AIP" 6379 "$HTTP" omni-alpha \
	nsenter --net="/proc/$CPID/ns/net"

echo
echo "# a new client: docker run to its first command, and to its first proxied answer ($RUNS runs, ms)"
starts=() firsts=()
for ((i = 0; i < RUNS; i++)); do
	name=legate-omni-bench-n$i-$$
	t0=$(date +%s%N)
	docker run -d --label "$LABEL" --name "$name" -e "BACKEND_6379=$GW:$B" "$IMG" bash -c \
		"date +%s%N; until [ \"\$( (exec 3<>/dev/tcp/$AIP/6379 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3) 2>/dev/null)\" = omni-alpha ]; do sleep 0.01; done; date +%s%N; sleep infinity" \
		> /dev/null
	lg_wait 30 "client $i's first answer" sh -c "[ \$(docker logs $name 2>/dev/null | wc -l) -ge 2 ]"
	{ read -r s; read -r f; } < <(docker logs "$name" 2>/dev/null)
	starts+=($(( (s - t0) / 1000000 )))
	firsts+=($(( (f - t0) / 1000000 )))
	docker rm -f "$name" > /dev/null
done
med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%s (min %s, max %s)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
echo "docker run -> the client's first command:     $(med "${starts[@]}")"
echo "docker run -> its first proxied answer:       $(med "${firsts[@]}")"
