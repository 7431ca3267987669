# tests/netns.bash: the project's own test hosts, each a network namespace
# on one private bridge (reachable from nothing outside), for the tests of
# clusters.  Namespaces are named PREFIX<pid>-NODE; this run's go when it
# stops (through LG_AFTER_STOP, whatever happens), and so do those of runs
# that were killed outright (their pid is gone).  Root only.

# netns_hosts PREFIX NET NODE=HOST...: sets P=PREFIX$$ and makes PREFIX$$-hub
# with a bridge and, for each NODE, a namespace PREFIX$$-NODE whose eth0 on
# that bridge has the address NET.HOST/24.
netns_hosts() {
	local prefix=$1 net=$2 spec n
	shift 2
	P=$prefix$$
	NETNS_PREFIX=$prefix
	LG_AFTER_STOP+=(netns_sweep)
	netns_sweep
	ip netns add "$P-hub"
	ip -n "$P-hub" link add br0 type bridge
	ip -n "$P-hub" link set br0 up
	for spec in "$@"; do
		n=${spec%%=*}
		ip netns add "$P-$n"
		ip -n "$P-hub" link add "v-$n" type veth peer name eth0 netns "$P-$n"
		ip -n "$P-hub" link set "v-$n" master br0 up
		ip -n "$P-$n" addr add "$net.${spec#*=}/24" dev eth0
		ip -n "$P-$n" link set eth0 up
		ip -n "$P-$n" link set lo up
	done
}

# netns_sweep: deletes this run's namespaces and those of dead runs.
netns_sweep() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		case $ns in "$NETNS_PREFIX"*-*) ;; *) continue ;; esac
		pid=${ns#"$NETNS_PREFIX"}
		pid=${pid%%-*}
		if [ "$pid" = $$ ] || ! kill -0 "$pid" 2>/dev/null; then
			ip netns delete "$ns" 2>/dev/null
		fi
	done
}

# nx NODE CMD...: runs CMD in NODE's namespace.
nx() {
	local n=$1
	shift
	ip netns exec "$P-$n" "$@"
}
