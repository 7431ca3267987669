# tests/ambassador/kv.bash: progrium/ambassadord's KV forms, run by
# kv_etcd.sh and kv_consul.sh with their own functions:
#   kv_put KEY VALUE, kv_del KEY, KV_URL (etcd://HOST:PORT or consul://HOST:PORT).
# The values of the keys under the path when it has any, else the path's
# own value; listens on 10000.

lg_start_nginx alpha
A=$NGINX_PORT
lg_start_nginx beta
B=$NGINX_PORT
read -r P1 P2 <<< "$(lg_ports 2)"

kv_put backends/db "127.0.0.1:$A"
"$LEGATE_BIN/legate" ambassador --print-config "$KV_URL/backends/db" > "$T/db.cfg"
grep -q '^    bind :10000$' "$T/db.cfg" || { cat "$T/db.cfg"; lg_fail "the KV form does not listen on 10000"; }

# A path with no children: its own value.
amb_start --listen "127.0.0.1:$P1" "$KV_URL/backends/db"
amb_expect "$P1" alpha
t0=$(amb_now_ms); kv_put backends/db "127.0.0.1:$B"
amb_switched "$P1" beta "$t0"
# A key that only shares the prefix is not a child.
kv_put backends/dbx "127.0.0.1:$A"
sleep 0.5
for i in 1 2 3; do [ "$(amb_get "$P1")" = beta ] || lg_fail "backends/dbx was taken for a child"; done
# Children appear: their values win over the path's own value.
t0=$(amb_now_ms); kv_put backends/db/one "127.0.0.1:$A"
amb_switched "$P1" alpha "$t0"
for i in 1 2 3; do [ "$(amb_get "$P1")" = alpha ] || lg_fail "the own value is still used next to children"; done
kv_put backends/db/two "127.0.0.1:$B"
amb_both "$P1" alpha beta
# A bad value is skipped, not fatal.
kv_put backends/db/three "not an address"
t0=$(amb_now_ms); kv_del backends/db/one
amb_only "$P1" beta "$t0"
# Children gone: back to the own value; then nothing: refused.
kv_del backends/db/two; kv_del backends/db/three
t0=$(amb_now_ms); kv_put backends/db "127.0.0.1:$A"
amb_switched "$P1" alpha "$t0"
t0=$(amb_now_ms); kv_del backends/db
amb_refusing "$P1" "$t0"
t0=$(amb_now_ms); kv_put backends/db "127.0.0.1:$B"
amb_switched "$P1" beta "$t0"
amb_alive

# A path that does not exist yet: refused until it does.
amb_start --listen "127.0.0.1:$P2" "$KV_URL/later/nodes/"
lg_wait 10 "the config" test -f "$T/run/haproxy.cfg"
amb_refusing "$P2" "$(amb_now_ms)"
t0=$(amb_now_ms); kv_put later/nodes/n1 "127.0.0.1:$A"
amb_switched "$P2" alpha "$t0"
amb_alive
amb_stop
