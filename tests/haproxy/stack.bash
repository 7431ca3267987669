# tests/haproxy/stack.bash: the HAProxy image's process tree on loopback,
# for the tests and the benchmark (sourced after tests/lib.sh, with a Consul
# agent started).  It runs the shipped files unchanged: compose/init.conf,
# compose/legate.hcl (paths moved into $T) and templates/haproxy.cfg.mustache.
#
#   lg_stack_start       legate-init -> legate + haproxy -W; sets STACK_HTTP
#                        (frontend host:port), STACK_STATS, STACK_STATUS
#                        (legate's status address), STACK_MASTER (master CLI)
#   lg_stack_reloads     legate's reload commands run so far
#   lg_stack_master_reloads   the master's reload counter
#   lg_stack_old_workers number of old workers the master lists now
#   lg_register_web ID PORT   registers ID in service web, tagged for HAProxy

lg_stack_start() {
	local p
	read -r -a p <<< "$(lg_ports 3)"
	STACK_HTTP=127.0.0.1:${p[0]}
	STACK_STATS=127.0.0.1:${p[1]}
	STACK_STATUS=127.0.0.1:${p[2]}
	STACK_MASTER=$T/haproxy-master.sock
	STACK_INIT_SOCK=$T/legate-init.sock
	sed -e "s#/etc/legate/haproxy.cfg.mustache#$LEGATE_ROOT/templates/haproxy.cfg.mustache#" \
		-e "s#/etc/haproxy/haproxy.cfg#$T/haproxy.cfg#" \
		"$LEGATE_ROOT/compose/legate.hcl" > "$T/legate.hcl"
	PATH=$LEGATE_BIN:$PATH \
	LEGATE_CONFIG=$T/legate.hcl LEGATE_STATUS_ADDR=$STACK_STATUS \
	HAPROXY_CONFIG=$T/haproxy.cfg HAPROXY_MASTER_SOCKET=$STACK_MASTER \
	HAPROXY_HTTP_BIND=$STACK_HTTP HAPROXY_STATS_BIND=$STACK_STATS \
	HAPROXY_ADMIN_SOCKET=$T/haproxy-admin.sock \
		lg_bg stack "$LEGATE_BIN/legate-init" -P -S "$STACK_INIT_SOCK" -c "$LEGATE_ROOT/compose/init.conf"
	STACK_PID=$LG_LAST_PID
	lg_wait 20 "HAProxy's frontend on $STACK_HTTP" curl -s -o /dev/null "http://$STACK_HTTP/"
	lg_wait 10 "HAProxy's master CLI" test -S "$STACK_MASTER"
	lg_wait 10 "legate's /metrics" curl -sf "http://$STACK_STATUS/metrics"
}

lg_stack_metric() {
	curl -sf "http://$STACK_STATUS/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { print s + 0 }'
}

lg_stack_reloads() { lg_stack_metric legate_commands_total; }

lg_stack_show_proc() { echo "show proc" | "$LEGATE_TOOLS/unixsock" "$STACK_MASTER"; }

lg_stack_master_reloads() { lg_stack_show_proc | awk '$2 == "master" { print $3; exit }'; }

lg_stack_old_workers() {
	lg_stack_show_proc | awk '/^# old workers/ { o = 1; next } /^#/ { o = 0 } o && NF { n++ } END { print n + 0 }'
}

lg_register_web() {
	lg_consul_register "$1" web "$2" '["haproxy","haproxy-default"]' > /dev/null
}
