# A blocking call whose wait runs out brings back the very bytes taken
# before: they are not parsed again and nothing is reported, while a real
# change, its revert and the change again are each reported.  (At 10,000
# services the services list is 1 MB a wait.)
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/watcher/lib.bash"

lg_start_consul
reg() { lg_consul PUT /v1/catalog/register "$1" > /dev/null; }
for i in 1 2; do
	reg "{\"Node\":\"ext\",\"Address\":\"10.1.0.1\",\"Service\":{\"ID\":\"s$i-a\",\"Service\":\"s$i\",\"Port\":$((9000 + i))}}"
done
printf '%s\n' services service.s1 service.s2 > "$T/names"
wl_watchctl -consul-addr "$CONSUL_HTTP_ADDR" -wait 1 -log-level debug -names-file "$T/names"
wl_wait_ids service.s1 "s1-a"
wl_wait_ids service.s2 "s2-a"

# same NAME: how many answers of NAME were the bytes already taken.
same() { grep -c "$1.*the same answer" "$T/watchctl.log" || true; }
lg_wait 20 "three waits of services run out" sh -c "[ \$(grep -c 'services.*the same answer' '$T/watchctl.log') -ge 3 ]"
lg_wait 10 "three waits of service.s1 run out" sh -c "[ \$(grep -c 'service.s1.*the same answer' '$T/watchctl.log') -ge 3 ]"

# s1 changes, goes back, changes again; s2 never.
b='{"Node":"ext2","Address":"10.1.0.2","Service":{"ID":"s1-b","Service":"s1","Port":1}}'
reg "$b"
wl_wait_ids service.s1 "s1-a s1-b"
lg_consul PUT /v1/catalog/deregister '{"Node":"ext2"}' > /dev/null
wl_wait_ids service.s1 "s1-a"
reg "$b"
wl_wait_ids service.s1 "s1-a s1-b"
sleep 2   # more waits run out

wl_expect_ids service.s1 "s1-a|s1-a s1-b|s1-a|s1-a s1-b|"
wl_expect_ids service.s2 "s2-a|"
wl_expect_ids services "consul s1 s2|"
n=$(same service.s2)
[ "$n" -ge 3 ] || lg_fail "service.s2: only $n answers were found the same"
kill -TERM "$WPID"
wait "$WPID" || lg_fail "watchctl exited $?"
echo "answers found the same: services $(same 'services'), service.s1 $(same service.s1), service.s2 $n"
