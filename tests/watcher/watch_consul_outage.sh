# Consul killed mid-watch and started again (empty, its indexes starting
# over): the watcher retries with backoff, keeps its data meanwhile, resets
# the index that went backwards, reports nothing that did not change, and
# sees the next real change.  The watcher long-polls with a 60 s wait: both
# 1.8 and 1.14 hold a call on an index above their own for the whole wait,
# so a retry that blocked on the old index would see nothing in time.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

lg_start_consul
# Push the indexes up first, so that the restarted agent's are lower.
urls=()
for i in $(seq 1 40); do urls+=("http://$CONSUL_HTTP_ADDR/v1/kv/noise/n$i"); done
curl -sSf -X PUT -d x "${urls[@]}" > /dev/null
lg_consul_register web1 web 8081
lg_consul PUT /v1/kv/config/x 1 > /dev/null

wl_start_faultproxy "$CONSUL_HTTP_PORT" /v1/status/leader

wl_watchctl -consul-addr "127.0.0.1:$PROXY_PORT" -wait 60 -backoff-min 0.2 -backoff-max 1 \
	-log-level info service.web key.config/x
wl_wait_ids service.web "web1"
wl_wait_line 'key.config/x "1"'

# The outage: the agent dies under open long-polls.
lg_stop_consul
lg_wait 15 "three retries" sh -c "[ \$(grep -c retry '$T/watchctl.log') -ge 3 ]"
# The watcher stays cut off while the new, empty agent gets its data back.
echo drop > "$MODE"
kill -USR1 "$PROXY"
lg_run_consul
lg_consul_register web1 web 8081
lg_consul PUT /v1/kv/config/x 1 > /dev/null
echo pass > "$MODE"
lg_wait 20 "the index reset" grep -q 'went backwards' "$T/watchctl.log"
lg_wait 20 "recovery" sh -c "kill -USR1 $WPID; sleep 0.3; tail -n 1 '$OUT' | grep '^status ' | grep -qv '\"retries\":[1-9]'"

lg_consul_register web2 web 8082
wl_wait_ids service.web "web1 web2"
lg_consul PUT /v1/kv/config/x 2 > /dev/null
wl_wait_line 'key.config/x "2"'

# Never an empty list or a missing key that was not really so (the new
# agent's node ID is a change of web1's data, not of its ids).
wl_expect_id_changes service.web "web1|web1 web2|"
wl_expect_values key.config/x '"1"|"2"|'
kill -TERM "$WPID"
wait "$WPID" || lg_fail "watchctl exited $?"
grep -q 'Sanitizer' "$T/watchctl.log" && lg_fail "sanitizer report"
echo ok
