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
#   lg_stack_old_workers number of old workers the master lists now (one
#                        "show proc", not retried: a sampler's call ends
#                        at once when the master has gone)
#   lg_register_web ID PORT   registers ID in service web, tagged for HAProxy
#   lg_stack_servers BACKEND  the servers HAProxy runs in BACKEND and sends
#                        traffic to (not in maintenance, i.e. not draining), sorted
#   lg_consul_passing SERVICE the IDs of SERVICE's passing instances, sorted
#   lg_stack_confirmed   reloads legate's driver saw confirmed
#   lg_stack_applies     changes legate applied through the runtime API

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
	# HAProxy runs the installed file (the first reload confirmed).
	lg_wait 20 "legate's /health ok" sh -c "curl -sf http://$STACK_STATUS/health | grep -qx ok"
}

lg_stack_metric() {
	curl -sf "http://$STACK_STATUS/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { print s + 0 }'
}

lg_stack_reloads() { lg_stack_metric legate_haproxy_reloads_total; }

lg_stack_confirmed() { lg_stack_metric legate_haproxy_reloads_confirmed_total; }

lg_stack_applies() { lg_stack_metric legate_haproxy_runtime_applies_total; }

# (retried for up to 5 s: a master that re-executes does not answer)
lg_stack_show_proc() {
	local i
	for ((i = 0; i < 50; i++)); do
		echo "show proc" | "$LEGATE_TOOLS/unixsock" "$STACK_MASTER" 2> /dev/null && return 0
		sleep 0.1
	done
	echo "show proc" | "$LEGATE_TOOLS/unixsock" "$STACK_MASTER"
}

lg_stack_master_reloads() { lg_stack_show_proc | awk '$2 == "master" { print $3; exit }'; }

lg_stack_old_workers() {
	echo "show proc" | "$LEGATE_TOOLS/unixsock" "$STACK_MASTER" | awk '/^# old workers/ { o = 1; next } /^#/ { o = 0 } o && NF { n++ } END { print n + 0 }'
}

lg_register_web() {
	lg_consul_register "$1" web "$2" '["haproxy","haproxy-default"]' > /dev/null
}

# srv_admin_state bit 0x01 is "forced maintenance": a removed server draining.
lg_stack_servers() {
	echo "@1 show servers state $1" | "$LEGATE_TOOLS/unixsock" "$STACK_MASTER" |
		awk '$1 ~ /^[0-9]+$/ && NF > 10 && $7 % 2 == 0 { print $4 }' | sort
}

lg_consul_passing() {
	curl -sf "http://$CONSUL_HTTP_ADDR/v1/health/service/$1?passing=1" | lg_compact |
		grep -o '"Service":{"ID":"[^"]*"' | sed 's/.*"ID":"//; s/"$//' | sort
}
