# progrium/ambassadord's consul://HOST:PORT/PATH against Consul KV:
# children's values or the path's own value, followed through blocking
# queries; refused when there is none.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

lg_start_consul
kv_put() { lg_consul PUT "/v1/kv/$1" "$2" >/dev/null; }
kv_del() { lg_consul DELETE "/v1/kv/$1" >/dev/null; }
KV_URL=consul://$CONSUL_HTTP_ADDR
. "$LEGATE_ROOT/tests/ambassador/kv.bash"
