# legate against a real Consul cluster: three servers and a client agent,
# each in a network namespace of its own on a private bridge (10.99.0.0/24,
# reachable from nothing outside), and two legates in the client's
# namespace talking to the client agent, one of them with -max-stale.
# Cases: the leader killed; the leader cut off (its link down); quorum lost
# (two servers killed), during which the -max-stale legate still renders a
# template added by SIGHUP and the other waits; the client agent
# restarted; every server restarted.  After each, a service registered
# reaches both files; the time from the new leader (or the agent's return)
# to the file is printed as a figure.  Every version of the files is kept
# aside by the template's command, and none may be partial: each holds the
# five instances registered at the start and the whole template.
# Root only (network namespaces); the namespaces go whatever happens.
# legate-test: serial
# legate-test: consul
# legate-test: timeout=360
. "$LEGATE_ROOT/tests/lib.sh"

[ "$(id -u)" = 0 ] || lg_skip "needs root (network namespaces)"
command -v ip > /dev/null || lg_skip "needs ip (iproute2)"
lg_consul_bin

NET=10.99.0
declare -A ADDR=([s1]=$NET.1 [s2]=$NET.2 [s3]=$NET.3 [c1]=$NET.4)
SERVERS=(s1 s2 s3)
declare -A PID=()
CLIENT=$NET.4:8500
. "$LEGATE_ROOT/tests/netns.bash"
netns_hosts lgc "$NET" s1=1 s2=2 s3=3 c1=4      # namespaces lgcPID-hub, lgcPID-s1, ...

COMMON=(-grpc-port=-1 -dns-port=-1 -log-level=warn -hcl 'performance { raft_multiplier = 1 }'
	-hcl 'disable_update_check = true'
	-retry-join="$NET.1" -retry-join="$NET.2" -retry-join="$NET.3" -retry-interval=1s)
lg_consul_at_least 1.14 && COMMON+=(-grpc-tls-port=-1)

# start NODE: (re)starts NODE's agent, keeping its data dir.
start() {
	local n=$1 role=()
	[ "$n" != c1 ] && role=(-server -bootstrap-expect=3)
	mkdir -p "$T/data-$n"
	lg_bg "consul-$n-$(date +%s%N)" ip netns exec "$P-$n" "$LG_CONSUL" agent "${role[@]}" -node="$n" \
		-bind="${ADDR[$n]}" -client="${ADDR[$n]}" -data-dir="$T/data-$n" "${COMMON[@]}"
	PID[$n]=$LG_LAST_PID
}
stop() {
	kill -KILL "${PID[$1]}" 2>/dev/null || true
	wait "${PID[$1]}" 2>/dev/null || true
}

api() { nx c1 curl -sf -m 2 "$@"; }   # the client agent's API, from its namespace
leader() { api "http://$CLIENT/v1/status/leader" | tr -d '"' | sed 's/:.*//' || true; }
# the_leader: the leader's address once the client agent names one.
the_leader() {
	lg_wait 30 "a leader named by the client agent" has_leader
	leader
}
node_of() { local n; for n in "${SERVERS[@]}"; do [ "${ADDR[$n]}" != "$1" ] || echo "$n"; done; }
has_leader() { [ -n "$(leader)" ]; }
has_new_leader() { local l; l=$(leader); [ -n "$l" ] && [ "$l" != "$1" ]; }
# Every agent alive as the client agent sees it, a leader, and the three
# servers healthy voters for autopilot: a server back from a cut can stay a
# non-voter the leader no longer replicates to, and a case that leaves it
# the last one standing would read data from before the cut.
whole() {
	[ "$(nx c1 "$LG_CONSUL" members -http-addr="http://$CLIENT" -status=alive 2>/dev/null |
		grep -cE '^(s1|s2|s3|c1) ')" = 4 ] && has_leader &&
		api "http://$CLIENT/v1/operator/autopilot/health" | python3 -c '
import json, sys
h = json.load(sys.stdin)
ok = {s["Name"] for s in h["Servers"] if s["Healthy"] and s["Voter"]}
sys.exit(0 if ok >= {"s1", "s2", "s3"} else 1)'
}
now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }

# register ID PORT: a web instance on an external node (no agent health
# check, so it stays passing whatever happens to the agents).
register() {
	api -X PUT --data-binary "{\"Node\":\"ext\",\"Address\":\"10.1.0.1\",\"Service\":{\"ID\":\"$1\",\"Service\":\"${3:-web}\",\"Port\":$2}}" \
		"http://$CLIENT/v1/catalog/register" > /dev/null
}

for n in "${SERVERS[@]}" c1; do start "$n"; done
lg_wait 60 "a leader seen through the client agent" has_leader
for i in 1 2 3 4 5; do lg_wait 20 "web-$i registered" register "web-$i" $((9000 + i)); done
lg_wait 20 "db-1 registered" register db-1 7001 db
lg_wait 20 "a key" api -X PUT --data-binary 100 "http://$CLIENT/v1/kv/cfg/maxconn"
# Every server has applied them (a stale read may come from any).
for n in "${SERVERS[@]}"; do
	lg_wait 20 "the writes applied on $n" sh -c \
		"ip netns exec $P-$n curl -sf 'http://${ADDR[$n]}:8500/v1/kv/cfg/maxconn?stale&raw' | grep -qx 100 &&
		 ip netns exec $P-$n curl -sf 'http://${ADDR[$n]}:8500/v1/health/service/db?stale' | grep -q db-1"
done

cat > "$T/t.mustache" <<'TPL'
# begin
{{#service.web}}server {{id}} {{address}}:{{port}}
{{/service.web}}maxconn {{key.cfg/maxconn}}
# end
TPL
printf '# db\n{{#service.db}}server {{id}} {{port}}\n{{/service.db}}# end\n' > "$T/db.mustache"
mkdir -p "$T/versions"
# keep NAME: copies the file just installed aside, one copy per version.
cat > "$T/keep.sh" <<EOF
cp "$T/\$1.cfg" "$T/versions/\$1.\$(date +%s%N)"
EOF
# conf NAME [db]: NAME's configuration, with the db template or without.
conf() {
	{
		printf 'template {\n  source = "%s"\n  destination = "%s"\n  command = "sh %s %s"\n}\n' \
			"$T/t.mustache" "$T/$1.cfg" "$T/keep.sh" "$1"
		if [ "${2:-}" = db ]; then
			printf 'template {\n  source = "%s"\n  destination = "%s"\n  command = "sh %s %s"\n}\n' \
				"$T/db.mustache" "$T/$1-db.cfg" "$T/keep.sh" "$1-db"
		fi
	} > "$T/$1.hcl"
}
conf plain
conf stale
lg_bg legate-plain ip netns exec "$P-c1" "$LEGATE_BIN/legate" -consul-addr "$CLIENT" -config "$T/plain.hcl"
PLAIN=$LG_LAST_PID
lg_bg legate-stale ip netns exec "$P-c1" "$LEGATE_BIN/legate" -consul-addr "$CLIENT" -config "$T/stale.hcl" -max-stale 30s
STALE=$LG_LAST_PID
lg_wait 20 "both files" sh -c "grep -q web-5 '$T/plain.cfg' && grep -q web-5 '$T/stale.cfg'"

# follow ID PORT T0 LABEL [SECS]: registers ID once the cluster takes
# writes, waits for it in both files (SECS at most, 20 by default), and
# records LABEL's times from T0 (ms).
follow() {
	local id=$1 port=$2 t0=$3 label=$4 secs=${5:-20} treg tp ts
	lg_wait 20 "$id registered ($label)" register "$id" "$port"
	treg=$(now_ms)
	lg_wait "$secs" "$id in plain.cfg ($label)" grep -q "server $id " "$T/plain.cfg"
	tp=$(now_ms)
	lg_wait "$secs" "$id in stale.cfg ($label)" grep -q "server $id " "$T/stale.cfg"
	ts=$(now_ms)
	FIGURES+=("$label: registered $((treg - t0)) ms after; in the file $((tp - t0)) ms after (-max-stale: $((ts - t0)) ms)")
}
FIGURES=()
alive() { lg_alive "$PLAIN" && lg_alive "$STALE" || lg_fail "a legate exited"; }

# 1. The leader killed.
old=$(the_leader)
victim=$(node_of "$old")
t0=$(now_ms)
stop "$victim"
lg_wait 30 "a new leader after killing $victim" has_new_leader "$old"
tl=$(now_ms)
FIGURES+=("leader $victim killed: new leader after $((tl - t0)) ms")
follow web-a 9101 "$tl" "after the new leader"
start "$victim"
lg_wait 60 "$victim back in the cluster" whole
alive

# 2. The leader cut off: its link down.
old=$(the_leader)
victim=$(node_of "$old")
t0=$(now_ms)
ip -n "$P-$victim" link set eth0 down
lg_wait 60 "a new leader with $victim cut off" has_new_leader "$old"
tl=$(now_ms)
FIGURES+=("leader $victim cut off: new leader after $((tl - t0)) ms")
# A client agent of 1.10 or later answers blocking health queries from a
# view fed by a stream from one server; when that server is the one cut
# off, the agent itself serves the old view until its gRPC keepalive (30 s,
# then 10 s) gives up on the stream, and may pick the same server again
# for its next stream.  Hence the longer bound here.
follow web-b 9102 "$tl" "after the new leader" 120
ip -n "$P-$victim" link set eth0 up
# Gossip reconnects a member it saw fail every 30 s; a join is at once.
lg_wait 20 "$victim rejoined" nx "$victim" "$LG_CONSUL" join -http-addr="http://${ADDR[$victim]}:8500" \
	"$NET.1" "$NET.2" "$NET.3" "$NET.4"
lg_wait 90 "$victim back in the cluster" whole
alive

# 3. Quorum lost: two servers killed; no leader can be elected.  A template
# added now reads through the remaining server with -max-stale only.
old=$(the_leader)
victim=$(node_of "$old")
other=s1
[ "$victim" = s1 ] && other=s2
stop "$victim"
stop "$other"
no_leader() { [ "$(api "http://$CLIENT/v1/status/leader")" = '""' ]; }
lg_wait 30 "no leader" no_leader
conf plain db
conf stale db
t0=$(now_ms)
kill -HUP "$PLAIN" "$STALE"
lg_wait 30 "the -max-stale legate renders a template added without a leader" grep -q "server db-1 " "$T/stale-db.cfg"
ts=$(now_ms)
no_leader || lg_fail "a leader came back: the case proves nothing"
[ ! -e "$T/plain-db.cfg" ] || lg_fail "without -max-stale, a template was rendered without a leader"
FIGURES+=("quorum lost: a template added by SIGHUP rendered by the -max-stale legate after $((ts - t0)) ms; the other waits")
start "$victim"
start "$other"
lg_wait 60 "a leader after quorum is back" has_leader
tl=$(now_ms)
lg_wait 30 "the template without -max-stale" grep -q "server db-1 " "$T/plain-db.cfg"
FIGURES+=("quorum back: the other legate rendered it $(($(now_ms) - tl)) ms after the new leader")
follow web-c 9103 "$tl" "after quorum is back"
lg_wait 60 "the cluster whole again" whole
alive

# 4. The client agent restarted (same data dir, same address).
stop c1
t0=$(now_ms)
sleep 1
start c1
lg_wait 30 "the client agent back" has_leader
tl=$(now_ms)
FIGURES+=("client agent restarted: answering $((tl - t0)) ms after it went")
follow web-d 9104 "$tl" "after the client agent is back"
lg_wait 60 "the cluster whole again" whole
alive

# 5. Every server restarted.
for n in "${SERVERS[@]}"; do stop "$n"; done
t0=$(now_ms)
for n in "${SERVERS[@]}"; do start "$n"; done
lg_wait 60 "a leader after every server restarted" has_leader
tl=$(now_ms)
FIGURES+=("every server restarted: new leader after $((tl - t0)) ms")
follow web-e 9105 "$tl" "after the new leader"
alive

# Every version written (the copies are made by each install's command,
# just after it): complete, and with the five first instances.
lg_wait 10 "the last versions kept" sh -c \
	"grep -qs 'server web-e ' $T/versions/plain.* && grep -qs 'server web-e ' $T/versions/stale.*"
n=0
for f in "$T"/versions/plain.* "$T"/versions/stale.*; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	head -n 1 "$f" | lg_grepq -x '# begin' && tail -n 1 "$f" | lg_grepq -x '# end' &&
		grep -qx 'maxconn 100' "$f" || lg_fail "a partial version: ${f##*/}: $(cat "$f")"
	for i in 1 2 3 4 5; do
		grep -q "^server web-$i " "$f" || lg_fail "${f##*/} lacks web-$i: $(cat "$f")"
	done
done
for f in "$T"/versions/*-db.*; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	grep -q "^server db-1 " "$f" || lg_fail "a partial version: ${f##*/}: $(cat "$f")"
done
[ "$n" -ge 14 ] || lg_fail "only $n versions written"
for f in "${FIGURES[@]}"; do lg_log "$f"; done
lg_log "$n versions of the files written, none partial"
