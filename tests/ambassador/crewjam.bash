# tests/ambassador/crewjam.bash: the crewjam/ambassador scenario, run by
# crewjam_v3.sh and crewjam_v2.sh with their own put/del functions:
#   cj_put KEY VALUE, cj_del KEY, CJ_FLAGS (extra flags, e.g. --etcd-v2).

lg_start_etcd
lg_start_nginx alpha
A=$NGINX_PORT
lg_start_nginx beta
B=$NGINX_PORT
lg_start_nginx gamma
C=$NGINX_PORT
read -r P1 P2 P3 <<< "$(lg_ports 3)"

# crewjam's layout; values are host:port here (all backends share 127.0.0.1).
cj_put /services/postgres/instances/1/private_ip "127.0.0.1:$A"
cj_put /services/postgres/instances/2/private_ip "127.0.0.1:$B"
cj_put /services/postgres/instances/2/public_ip "127.0.0.1:$C"
cj_put /services/postgres/master 1

# Listens on --port by default.
"$LEGATE_BIN/legate" ambassador $CJ_FLAGS --print-config --etcd-prefix=/services/postgres \
	--port=5432 --etcd="$ETCD_ADDR" > "$T/pg.cfg"
grep -q '^    bind :5432$' "$T/pg.cfg" || { cat "$T/pg.cfg"; lg_fail "--port 5432 does not listen on 5432"; }
[ "$(grep -c '^    server ' "$T/pg.cfg")" = 2 ] || lg_fail "without --master-only, every instance"

# --master-only: traffic follows the master.
amb_start $CJ_FLAGS --etcd-prefix=/services/postgres --master-only --port=5432 \
	--etcd="$ETCD_ADDR" --listen "127.0.0.1:$P1"
MASTER_PID=$AMB_PID
amb_expect "$P1" alpha
for i in 1 2 3; do [ "$(amb_get "$P1")" = alpha ] || lg_fail "master-only reached another instance"; done
t0=$(amb_now_ms); cj_put /services/postgres/master 2
amb_switched "$P1" beta "$t0"
for i in 1 2 3; do [ "$(amb_get "$P1")" = beta ] || lg_fail "after the switch, another instance answered"; done
# The master moves to another address.
t0=$(amb_now_ms); cj_put /services/postgres/instances/2/private_ip "127.0.0.1:$C"
amb_switched "$P1" gamma "$t0"
# No master: refused at once; a master again: traffic again.
t0=$(amb_now_ms); cj_del /services/postgres/master
amb_refusing "$P1" "$t0"
t0=$(amb_now_ms); cj_put /services/postgres/master 1
amb_switched "$P1" alpha "$t0"
# A master whose instance is gone: refused.
cj_put /services/postgres/master 7
amb_refusing "$P1" "$(amb_now_ms)"
amb_alive

# --public: public_ip; only instance 2 has one.
amb_start $CJ_FLAGS -etcd-prefix /services/postgres -public -port 5432 \
	-etcd "$ETCD_ADDR" -listen "127.0.0.1:$P2"
amb_expect "$P2" gamma
for i in 1 2 3; do [ "$(amb_get "$P2")" = gamma ] || lg_fail "--public reached a private address"; done
t0=$(amb_now_ms); cj_put /services/postgres/instances/1/public_ip "127.0.0.1:$A"
amb_switched "$P2" alpha "$t0"
t0=$(amb_now_ms); cj_del /services/postgres/instances/1/public_ip; cj_del /services/postgres/instances/2/public_ip
amb_refusing "$P2" "$t0"

# The classic value: a bare IP, the port from --port.
cj_put /services/web/instances/a/private_ip 127.0.0.1
amb_start $CJ_FLAGS --etcd-prefix=/services/web --port="$B" --etcd="$ETCD_ADDR" --listen "127.0.0.1:$P3"
amb_expect "$P3" beta
amb_alive
amb_stop
AMB_PID=$MASTER_PID
amb_stop
