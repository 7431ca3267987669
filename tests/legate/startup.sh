# Start-up with Consul down: legate writes nothing and announces nothing
# until all of a template's data has arrived; then it installs the file,
# creates -ready-file and writes one line to -ready-fd.
. "$LEGATE_ROOT/tests/lib.sh"

lg_pick_consul_ports
printf '{{#service.web}}server {{id}}\n{{/service.web}}maxconn {{key.config/maxconn}}\n' > "$T/t.mustache"
mkfifo "$T/ready.fifo"
# The reader holds the fifo open; legate gets its write end as fd 5.
cat "$T/ready.fifo" > "$T/ready.out" &
LG_PIDS+=($!)
lg_bg legate sh -c "exec \"$LEGATE_BIN/legate\" -consul-addr $CONSUL_HTTP_ADDR \
	-template $T/t.mustache:$T/out.cfg -ready-file $T/ready -ready-fd 5 5>$T/ready.fifo"
LEGATE_PID=$LG_LAST_PID
sleep 2
[ ! -e "$T/out.cfg" ] || lg_fail "a file was written with Consul down: $(cat "$T/out.cfg")"
[ ! -e "$T/ready" ] || lg_fail "readiness announced with Consul down"
lg_alive "$LEGATE_PID" || lg_fail "legate exited with Consul down"

lg_run_consul
lg_consul_register web-1 web 9001 >/dev/null
sleep 1
# service.web has arrived, key.config/maxconn too (absent is data: null).
lg_consul PUT /v1/kv/config/maxconn 64 >/dev/null
lg_wait 30 "out.cfg after Consul came up" grep -qx "maxconn 64" "$T/out.cfg"
grep -qx "server web-1" "$T/out.cfg" || lg_fail "out.cfg: $(cat "$T/out.cfg")"
lg_wait 5 "ready file" test -e "$T/ready"
lg_wait 5 "a line on the ready fd" test -s "$T/ready.out"
