# legate-test: timeout=240
# A reload asked for while the master re-executes is not lost.  Each round
# writes a new haproxy.cfg (a backend named after the round), sets off a
# reload from outside through the master CLI, and 0-30 ms later asks for
# legate's confirmed reload (haproxy/master.c, through tests/tools/hapctl):
# that second reload often reaches a master that is re-executing.  It must
# be confirmed every time, and the worker must then run the round's file.
. "$LEGATE_ROOT/tests/lib.sh"

ROUNDS=${LEGATE_RACE_ROUNDS:-40}
read -r port <<< "$(lg_ports 1)"

write_cfg() {
	cat > "$T/h.cfg.new" <<CFG
global
	stats socket $T/admin.sock mode 600 level admin
defaults
	mode http
	timeout connect 1s
	timeout client 5s
	timeout server 5s
frontend f
	bind 127.0.0.1:$port
	default_backend round$1
backend round$1
	server s 127.0.0.1:9
CFG
	mv "$T/h.cfg.new" "$T/h.cfg"
}

write_cfg 0
lg_start_haproxy "$T/h.cfg"
lg_wait 10 "the master CLI" sh -c "echo 'show proc' | $LEGATE_TOOLS/unixsock $HAPROXY_SOCK | grep -q master"

during=0
for ((i = 1; i <= ROUNDS; i++)); do
	write_cfg "$i"
	echo reload | "$LEGATE_TOOLS/unixsock" "$HAPROXY_SOCK" > /dev/null 2>&1 &
	outside=$!
	sleep "0.0$((RANDOM % 31 / 10))$((RANDOM % 10))"
	# Did this reload meet a master that does not answer (re-executing)?
	echo "show proc" | "$LEGATE_TOOLS/unixsock" "$HAPROXY_SOCK" > /dev/null 2>&1 || during=$((during + 1))
	out=$("$LEGATE_TOOLS/hapctl" reload "$HAPROXY_SOCK" 10) || lg_fail "round $i: $out"
	wait "$outside" || true
	echo "@1 show stat" | "$LEGATE_TOOLS/unixsock" "$HAPROXY_SOCK" | lg_grepq "^round$i,BACKEND" ||
		lg_fail "round $i: the worker does not run the round's file ($out)"
done
echo "# $ROUNDS rounds, each confirmed and running its own file; $during asked while the master was not answering"
