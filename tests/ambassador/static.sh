# legate ambassador with fixed backends (progrium/ambassadord HOST:PORT and
# HOST:PORT,HOST:PORT): the listen port, traffic to each backend, usage
# errors, HAProxy restarted when it dies, and a clean stop on SIGTERM.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

lg_start_nginx alpha
A=$NGINX_PORT
lg_start_nginx beta
B=$NGINX_PORT
read -r P1 P2 <<< "$(lg_ports 2)"

# Listens on the destination's port (the first one for a list).
"$LEGATE_BIN/legate" ambassador --print-config 192.168.1.100:8080 > "$T/one.cfg"
grep -q '^    bind :8080$' "$T/one.cfg" || { cat "$T/one.cfg"; lg_fail "HOST:PORT does not listen on PORT"; }
grep -q '^    server s1 192.168.1.100:8080$' "$T/one.cfg" || lg_fail "no server line"
"$LEGATE_BIN/legate" ambassador --print-config redis-1.example.com:6379,redis-2.example.com:6379 > "$T/two.cfg"
grep -q '^    bind :6379$' "$T/two.cfg" || lg_fail "a list does not listen on its port"
[ "$(grep -c '^    server ' "$T/two.cfg")" = 2 ] || lg_fail "a list of two gives two servers"

# Usage errors exit 2 and say why.
rc=0; "$LEGATE_BIN/legate" ambassador --omnimode 127.0.0.1:80 2> "$T/err" || rc=$?
[ $rc = 2 ] && grep -q 'BACKEND_<PORT>' "$T/err" || lg_fail "--omnimode with a BACKEND: exit $rc, $(cat "$T/err")"
rc=0; "$LEGATE_BIN/legate" ambassador --setup-iptables 127.0.0.1:80 2> "$T/err" || rc=$?
[ $rc = 2 ] && grep -q 'go with --omnimode' "$T/err" || lg_fail "--setup-iptables alone: exit $rc, $(cat "$T/err")"
rc=0; "$LEGATE_BIN/legate" ambassador --omnimode --docker tcp://127.0.0.1:2375 2> "$T/err" || rc=$?
[ $rc = 2 ] && grep -q 'unix:///PATH' "$T/err" || lg_fail "--docker tcp://: exit $rc, $(cat "$T/err")"
rc=0; "$LEGATE_BIN/legate" ambassador 'bad host:80' 2> "$T/err" || rc=$?
[ $rc = 2 ] || lg_fail "a bad address is a usage error (exit $rc)"
rc=0; "$LEGATE_BIN/legate" ambassador 127.0.0.1:80 127.0.0.2:80 2> "$T/err" || rc=$?
[ $rc = 2 ] && grep -q 'both listen on port 80' "$T/err" || lg_fail "two forwards on one port: exit $rc"
rc=0; "$LEGATE_BIN/legate" ambassador --port 5432 2> "$T/err" || rc=$?
[ $rc = 2 ] || lg_fail "--port without --etcd-prefix is a usage error (exit $rc)"

# One backend; HAProxy killed is started again.
amb_start --listen "127.0.0.1:$P1" "127.0.0.1:$A"
amb_expect "$P1" alpha
amb_alive
hp=$(pgrep -P "$AMB_PID" -x haproxy)
kill -KILL "$hp"
lg_wait 10 "a new haproxy" sh -c "pgrep -P $AMB_PID -x haproxy | grep -vx $hp"
amb_expect "$P1" alpha
grep -q 'haproxy: exited (137); restarting' "$T/ambassador.log" || lg_fail "the restart is not logged"
amb_alive
amb_stop

# Two backends, both reached (round robin); single-dash and "=" forms.
amb_start -listen="127.0.0.1:$P2" "127.0.0.1:$A,localhost:$B"
amb_both "$P2" alpha beta
amb_alive
amb_stop
