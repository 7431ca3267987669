# legate against a three-member etcd cluster, each member in a network
# namespace of its own on a private bridge (10.98.0.0/24, reachable from
# nothing outside), legate in a fourth with all three members listed.
# Cases: the leader killed; the member legate reads from killed; the member
# legate reads from cut off (its link down: its stream falls silent, and
# the read check legate makes every second fails); the member legate reads
# from cut off from its peers only (legate still reaches it).  After each, a value written through the
# rest of the cluster reaches the file; the time from the write to the file
# is printed as a figure.  Every version of the file is kept aside by the
# template's command, and none may be empty or partial.
# Root only (network namespaces); the namespaces go whatever happens.
# legate-test: serial
# legate-test: timeout=240
. "$LEGATE_ROOT/tests/lib.sh"

[ "$(id -u)" = 0 ] || lg_skip "needs root (network namespaces)"
command -v ip > /dev/null || lg_skip "needs ip (iproute2)"

NET=10.98.0
MEMBERS=(m1 m2 m3)
declare -A ADDR=([m1]=$NET.1 [m2]=$NET.2 [m3]=$NET.3 [cli]=$NET.9)
declare -A PID=()
EPS=http://$NET.1:2379,http://$NET.2:2379,http://$NET.3:2379
. "$LEGATE_ROOT/tests/netns.bash"
netns_hosts lge "$NET" m1=1 m2=2 m3=3 cli=9      # namespaces lgePID-hub, lgePID-m1, ...

CLUSTER=m1=http://$NET.1:2380,m2=http://$NET.2:2380,m3=http://$NET.3:2380
# start MEMBER: (re)starts it on its data dir.
start() {
	local n=$1 a=${ADDR[$1]} state=new
	[ -d "$T/data-$n/member" ] && state=existing
	lg_bg "etcd-$n-$(date +%s%N)" ip netns exec "$P-$n" etcd --name "$n" --data-dir "$T/data-$n" \
		--listen-client-urls "http://$a:2379" --advertise-client-urls "http://$a:2379" \
		--listen-peer-urls "http://$a:2380" --initial-advertise-peer-urls "http://$a:2380" \
		--initial-cluster "$CLUSTER" --initial-cluster-state "$state" \
		--initial-cluster-token "lge$$" --logger=zap --log-level=error
	PID[$n]=$LG_LAST_PID
}
stop() {
	kill -KILL "${PID[$1]}" 2>/dev/null || true
	wait "${PID[$1]}" 2>/dev/null || true
}
ctl() { nx cli env ETCDCTL_API=3 etcdctl --endpoints="$EPS" --command-timeout=3s "$@"; }
now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
# leader: the name of the member that leads now (empty when none does).
leader() {
	local n
	for n in "${MEMBERS[@]}"; do
		nx cli env ETCDCTL_API=3 etcdctl --endpoints="http://${ADDR[$n]}:2379" --command-timeout=1s \
			endpoint status -w json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["Status"]
sys.exit(s["header"]["member_id"] != s["leader"])' 2>/dev/null && { echo "$n"; return 0; }
	done
	return 1
}
# reading: the member legate follows (it says so in its log).
reading() {
	local a n
	a=$(grep -o 'following http://[0-9.]*' "$T/legate.log" | tail -1 | sed 's|.*//||')
	for n in "${MEMBERS[@]}"; do [ "${ADDR[$n]}" != "$a" ] || echo "$n"; done
}

for n in "${MEMBERS[@]}"; do start "$n"; done
lg_wait 60 "a leader" leader
ctl put /cfg/pool/a 10.0.0.1 > /dev/null
ctl put /cfg/pool/b 10.0.0.2 > /dev/null
ctl put /cfg/value 0 > /dev/null

# Each case writes a key of its own under /cfg/steps/: a write that timed
# out on the client may still land later, and must not undo a later one.
printf 'begin\nvalue {{key.cfg/value}}\nsteps{{#tree.cfg/steps/}} {{key}}{{/tree.cfg/steps/}}\n{{#tree.cfg/pool/}}server {{key}} {{value}}\n{{/tree.cfg/pool/}}end\n' \
	> "$T/t.mustache"
mkdir -p "$T/versions"
printf 'cp "%s/t.cfg" "%s/versions/$(date +%%s%%N)"\n' "$T" "$T" > "$T/keep.sh"
lg_bg legate ip netns exec "$P-cli" "$LEGATE_BIN/legate" -etcd-addr "$EPS" -log-level info \
	-template "$T/t.mustache:$T/t.cfg:sh $T/keep.sh"
LEGATE_PID=$LG_LAST_PID
lg_wait 20 "the first render" grep -qx 'value 0' "$T/t.cfg"
FIGURES=()

# follow LABEL VALUE [VICTIM]: right after a fault at T0, writes VALUE
# through the members but VICTIM (retrying until the cluster takes writes),
# and records the times from the fault to the write and to the file.
follow() {
	local label=$1 v=$2 victim=${3:-} eps="" n tw tf
	for n in "${MEMBERS[@]}"; do [ "$n" = "$victim" ] || eps+=${eps:+,}http://${ADDR[$n]}:2379; done
	lg_wait 30 "a write ($label)" nx cli env ETCDCTL_API=3 etcdctl --endpoints="$eps" \
		--command-timeout=1s put "/cfg/steps/$v" "$v"
	tw=$(now_ms)
	lg_wait 30 "step $v in the file ($label)" grep -qE "^steps( [0-9]+)* $v( |\$)" "$T/t.cfg"
	tf=$(now_ms)
	FIGURES+=("$label: written $((tw - T0)) ms after, in the file $((tf - T0)) ms after")
	lg_alive "$LEGATE_PID" || lg_fail "legate exited"
}
T0=$(now_ms)
follow "steady" 1

# 1. The leader killed.
victim=$(leader)
lg_log "leader: $victim; legate reads from $(reading)"
T0=$(now_ms)
stop "$victim"
follow "leader $victim killed" 2 "$victim"
start "$victim"
lg_wait 30 "$victim back" nx cli curl -sf -m 1 "http://${ADDR[$victim]}:2379/health"

# 2. The member legate reads from killed.
lg_wait 10 "legate's stream" test -n "$(reading)"
victim=$(reading)
lg_log "legate reads from $victim"
T0=$(now_ms)
stop "$victim"
follow "member $victim (legate's) killed" 3 "$victim"
[ "$(reading)" != "$victim" ] || lg_fail "legate still on $victim"
start "$victim"
lg_wait 30 "$victim back" nx cli curl -sf -m 1 "http://${ADDR[$victim]}:2379/health"

# 3. The member legate reads from cut off: its link down.
lg_wait 10 "legate's stream" test -n "$(reading)"
victim=$(reading)
lg_log "legate reads from $victim; cutting it off"
T0=$(now_ms)
ip -n "$P-$victim" link set eth0 down
follow "member $victim (legate's) cut off" 4 "$victim"
[ "$(reading)" != "$victim" ] || lg_fail "legate still on $victim"
ip -n "$P-$victim" link set eth0 up
T0=$(now_ms)
follow "after healing" 5

# 4. The member legate reads from cut off from its peers only: legate still
# reaches it, but it serves no current data.
lg_wait 10 "legate's stream" test -n "$(reading)"
victim=$(reading)
lg_log "legate reads from $victim; cutting it off from its peers"
T0=$(now_ms)
nx "$victim" iptables -A INPUT -p tcp --dport 2380 -j DROP
nx "$victim" iptables -A INPUT -p tcp --sport 2380 -j DROP
follow "member $victim (legate's) cut off from its peers" 6 "$victim"
[ "$(reading)" != "$victim" ] || lg_fail "legate still on $victim"
nx "$victim" iptables -F

for f in "${FIGURES[@]}"; do lg_log "$f"; done

# Every version: the whole template, the value, the steps, both servers.
n=0
for f in "$T"/versions/*; do
	n=$((n + 1))
	[ "$(head -1 "$f")" = begin ] && [ "$(tail -1 "$f")" = end ] &&
		grep -qx 'value 0' "$f" && grep -qE '^steps( [0-9])*$' "$f" &&
		grep -qx 'server a 10.0.0.1' "$f" && grep -qx 'server b 10.0.0.2' "$f" ||
		{ cat "$f"; lg_fail "a partial version: ${f##*/}"; }
done
lg_log "versions of the file: $n, every one complete"
[ "$n" -ge 6 ] || lg_fail "only $n versions"
grep -q 'Sanitizer' "$T/legate.log" && lg_fail "sanitizer report"
echo ok
