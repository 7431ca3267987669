# progrium/ambassadord's etcd://HOST:PORT/PATH against etcd v3 and, with
# --etcd-v2, the v2 API: children's values or the path's own value,
# followed as they change; refused when there is none.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

lg_start_etcd
kv_put() { lg_etcd_put "/$1" "$2" >/dev/null; }
kv_del() { etcdctl del "/$1" >/dev/null; }
KV_URL=etcd://$ETCD_ADDR
. "$LEGATE_ROOT/tests/ambassador/kv.bash"
AMB_V3=$AMB_PID

# The same through the v2 API (a separate key space on the same server).
lg_start_nginx gamma
G=$NGINX_PORT
P3=$(lg_ports 1)
v2_put() { curl -sSf -X PUT "http://$ETCD_ADDR/v2/keys/$1" --data-urlencode "value=$2" >/dev/null; }
v2_put v2/nodes/a "127.0.0.1:$G"
amb_start --etcd-v2 --run-dir "$T/run2" --listen "127.0.0.1:$P3" "etcd://$ETCD_ADDR/v2/nodes"
amb_expect "$P3" gamma
t0=$(amb_now_ms); v2_put v2/nodes/a "127.0.0.1:$A"
amb_switched "$P3" alpha "$t0"
t0=$(amb_now_ms); curl -sSf -X DELETE "http://$ETCD_ADDR/v2/keys/v2/nodes/a" >/dev/null
amb_refusing "$P3" "$t0"
amb_alive
amb_stop
