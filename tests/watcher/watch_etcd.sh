# etcd v3 through its JSON gateway: puts and deletes are reported once, in
# order; the watch stream resumes after etcd is killed and started again;
# a compaction while the watcher was cut off leads to a full read.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

lg_start_etcd
del() { curl -sSf "http://$ETCD_ADDR/v3/kv/deleterange" -d "{\"key\":\"$(lg_b64 "$1")\"}" > /dev/null; }

# The watcher reaches etcd through the proxy, so the test can cut it off.
wl_start_faultproxy "$ETCD_PORT" /health

wl_watchctl -etcd-addr "127.0.0.1:$PROXY_PORT" -backoff-min 0.2 -backoff-max 1 -log-level info \
	key.config/maxconn tree.services/pg/
wl_wait_line 'key.config/maxconn null'
wl_wait_line 'tree.services/pg/ []'

lg_etcd_put /config/maxconn 10 > /dev/null
wl_wait_line 'key.config/maxconn "10"'
lg_etcd_put /services/pg/instances/1/private_ip 10.0.0.1 > /dev/null
wl_wait_line 'tree.services/pg/ [{"key":"instances/1/private_ip","path":"/services/pg/instances/1/private_ip","value":"10.0.0.1"}]'
lg_etcd_put /services/pg/instances/2/private_ip 10.0.0.2 > /dev/null
lg_etcd_put /services/other/x y > /dev/null
del /services/pg/instances/1/private_ip
wl_wait_line 'tree.services/pg/ [{"key":"instances/2/private_ip","path":"/services/pg/instances/2/private_ip","value":"10.0.0.2"}]'
del /config/maxconn
wl_wait_line 'key.config/maxconn null'

# Kill etcd mid-watch, change nothing, start it again: the stream resumes
# from the next revision and nothing is reported (the data is the same).
lg_stop_etcd
lg_wait 15 "the watcher to notice" grep -q 'retry' "$T/watchctl.log"
lg_run_etcd
lg_etcd_put /config/maxconn 20 > /dev/null
wl_wait_line 'key.config/maxconn "20"'

# Cut the watcher off, write and compact behind its back, let it back in:
# its resume revision is gone, so it reads everything again.
echo drop > "$MODE"
kill -USR1 "$PROXY"
lg_wait 15 "the watcher to be cut off" sh -c "[ \$(grep -c retry '$T/watchctl.log') -ge 4 ]"
lg_etcd_put /services/pg/instances/3/private_ip 10.0.0.3 > /dev/null
del /services/pg/instances/2/private_ip
lg_etcd_put /config/maxconn 30 > /dev/null
rev=$(curl -sSf "http://$ETCD_ADDR/v3/kv/range" -d '{"key":"AA=="}' | sed 's/.*"revision":"\([0-9]*\)".*/\1/')
curl -sSf "http://$ETCD_ADDR/v3/kv/compaction" -d "{\"revision\":\"$rev\",\"physical\":true}" > /dev/null
echo pass > "$MODE"
wl_wait_line 'key.config/maxconn "30"'
wl_wait_line 'tree.services/pg/ [{"key":"instances/3/private_ip","path":"/services/pg/instances/3/private_ip","value":"10.0.0.3"}]'
grep -q 'compacted' "$T/watchctl.log" || lg_fail "no full read after compaction"

wl_expect_values key.config/maxconn 'null|"10"|null|"20"|"30"|'
[ "$(grep -c '^tree.services/pg/ ' "$OUT")" = 5 ] ||
	lg_fail "tree changed $(grep -c '^tree.services/pg/ ' "$OUT") times, want 5"
lg_alive "$WPID" || lg_fail "watchctl died"
kill -TERM "$WPID"
wait "$WPID" || lg_fail "watchctl exited $?"
grep -q 'Sanitizer' "$T/watchctl.log" && lg_fail "sanitizer report"
echo ok
