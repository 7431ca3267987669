# bench/consul: legate when Consul is not at its best, from the tests that
# check it (each prints its figures as "# " lines; they are gathered here):
#  1. a burst of 1,000 SIGHUPs (tests/legate/reload_storm): reloads done,
#     the agent's side of legate's connections (ss on the agent's port:
#     peak and after) and /health; BENCH_PEER_BIN=DIR runs the same burst
#     against the legate in DIR too (an older build: before and after);
#  2. an agent killed and restarted empty on the same ports
#     (tests/legate/outage), BENCH_RUNS times (5): from the registrations
#     made once it answers to the file, median and max;
#  3. three servers and a client agent in network namespaces
#     (tests/legate/cluster, root only): each case's times.
# LEGATE_CONSUL=old|new|PATH picks the agent, as for the tests.
set -u
: "${LEGATE_ROOT:?run through bench/run}"
RUNS=${BENCH_RUNS:-5}
figures() {  # figures SCRIPT [ENV...]: the script's "# " lines, without the agent's banner
	local script=$1
	shift
	env "$@" bash "$LEGATE_ROOT/tests/legate/$script.sh" 2>&1 | sed -n 's/^# //p' | grep -v '^consul [0-9]' || true
}
bin=${LEGATE_CONSUL:-old}
echo "(Consul: LEGATE_CONSUL=$bin; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs)"
echo

echo "1. 1,000 SIGHUPs 2 ms apart, a template on every service and its instances, -max-connections 32:"
echo
echo "this build ($LEGATE_BIN):"
figures reload_storm | sed 's/^/    /'
if [ -n "${BENCH_PEER_BIN:-}" ]; then
	echo "peer ($BENCH_PEER_BIN):"
	figures reload_storm LEGATE_BIN="$BENCH_PEER_BIN" | sed 's/^/    /'
fi
echo

echo "2. the agent killed, restarted empty 4 s later; registrations made once it answers, to the file ($RUNS runs):"
echo
for _ in $(seq 1 "$RUNS"); do
	figures outage | sed -n 's/.* after \([0-9]*\) ms$/\1/p'
done | sort -n | awk '{ v[NR] = $1 } END {
	if (NR == 0) { print "    no figure (the test failed)"; exit }
	printf "    median %d ms, max %d ms (%d runs)\n", v[int((NR + 1) / 2)], v[NR], NR }'
echo

echo "3. three servers and a client agent, each in its own network namespace (times in ms):"
echo
if [ "$(id -u)" != 0 ]; then
	echo "    skipped: needs root"
else
	figures cluster | sed 's/^/    /'
fi
