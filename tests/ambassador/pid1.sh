# legate ambassador as a container entrypoint: PID 1 of its own PID
# namespace, serving traffic, then SIGTERM: HAProxy stopped, exit 0, nothing
# left in the namespace.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

unshare --pid --fork --mount-proc true 2>/dev/null || lg_skip "no PID namespaces here (not root?)"
lg_start_nginx alpha
P=$(lg_ports 1)
unshare --pid --fork --mount-proc --kill-child "$LEGATE_BIN/legate" ambassador --run-dir "$T/run" \
	--listen "127.0.0.1:$P" "127.0.0.1:$NGINX_PORT" > "$T/pid1.log" 2>&1 &
U=$!
LG_PIDS+=($U)
LG_LOGS+=("$T/pid1.log")
amb_expect "$P" alpha
# The ambassador is the child of unshare; in its namespace it is PID 1.
L=$(pgrep -P "$U" -f 'legate ambassador')
[ -n "$L" ] || lg_fail "no ambassador under unshare"
grep -q '^NSpid:.*[[:space:]]1$' "/proc/$L/status" || lg_fail "the ambassador is not PID 1 in its namespace"
pgrep -P "$L" -x haproxy >/dev/null || lg_fail "no haproxy under the ambassador"
kill -TERM "$L"
rc=0
wait "$U" || rc=$?
[ $rc = 0 ] || lg_fail "exit $rc after SIGTERM as PID 1"
grep -q 'haproxy: stopped' "$T/pid1.log" || lg_fail "haproxy was not stopped"
