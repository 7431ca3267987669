# etcd v2: the classic /services/NAME/instances/N/private_ip layout watched
# with a recursive wait; an index that fell out of etcd's event window
# (error 401) leads to a full read.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

lg_start_etcd
v2() { curl -sSf -X "$1" "http://$ETCD_ADDR/v2/keys$2" ${3:+-d "value=$3"} > /dev/null; }

wl_start_faultproxy "$ETCD_PORT" /health

wl_watchctl -etcd-addr "127.0.0.1:$PROXY_PORT" -etcd-v2 -wait 5 -backoff-min 0.2 -backoff-max 1 \
	-log-level info key.config/maxconn tree.services/postgres/instances
wl_wait_line 'key.config/maxconn null'
wl_wait_line 'tree.services/postgres/instances []'

v2 PUT /services/postgres/instances/1/private_ip 10.0.0.1
wl_wait_line 'tree.services/postgres/instances [{"key":"1/private_ip","path":"/services/postgres/instances/1/private_ip","value":"10.0.0.1"}]'
# One write at a time: two writes in a row may reach the watcher as one
# change or as two, depending on how busy the machine is.
v2 PUT /services/postgres/instances/2/private_ip 10.0.0.2
wl_wait_line 'tree.services/postgres/instances [{"key":"1/private_ip","path":"/services/postgres/instances/1/private_ip","value":"10.0.0.1"},{"key":"2/private_ip","path":"/services/postgres/instances/2/private_ip","value":"10.0.0.2"}]'
v2 PUT /services/postgres/instances/2/master true
wl_wait_line 'tree.services/postgres/instances [{"key":"1/private_ip","path":"/services/postgres/instances/1/private_ip","value":"10.0.0.1"},{"key":"2/master","path":"/services/postgres/instances/2/master","value":"true"},{"key":"2/private_ip","path":"/services/postgres/instances/2/private_ip","value":"10.0.0.2"}]'
v2 PUT /config/maxconn 100
wl_wait_line 'key.config/maxconn "100"'
v2 DELETE '/services/postgres/instances/1?recursive=true'
wl_wait_line 'tree.services/postgres/instances [{"key":"2/master","path":"/services/postgres/instances/2/master","value":"true"},{"key":"2/private_ip","path":"/services/postgres/instances/2/private_ip","value":"10.0.0.2"}]'

# A wait that times out with nothing new is not an error.
sleep 6
grep -q 'warn' "$T/watchctl.log" && lg_fail "a quiet wait was logged as a problem"

# Cut off, more than 1000 events (etcd v2 keeps the last 1000), back in.
echo drop > "$MODE"
kill -USR1 "$PROXY"
lg_wait 15 "the watcher to be cut off" grep -q retry "$T/watchctl.log"
urls=()
for i in $(seq 1 1100); do urls+=("http://$ETCD_ADDR/v2/keys/noise/n$((i % 7))"); done
curl -sSf -X PUT -d value=x "${urls[@]}" > /dev/null
v2 PUT /config/maxconn 200
echo pass > "$MODE"
wl_wait_line 'key.config/maxconn "200"'
grep -q 'outdated' "$T/watchctl.log" || lg_fail "no full read after an outdated index"

wl_expect_values key.config/maxconn 'null|"100"|"200"|'
[ "$(grep -c '^tree.services/postgres/instances ' "$OUT")" = 5 ] ||
	lg_fail "tree changed $(grep -c '^tree.services/postgres/instances ' "$OUT") times, want 5"
kill -TERM "$WPID"
wait "$WPID" || lg_fail "watchctl exited $?"
grep -q 'Sanitizer' "$T/watchctl.log" && lg_fail "sanitizer report"
echo ok
