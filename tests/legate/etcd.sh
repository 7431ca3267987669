# With -etcd-addr, key. and tree. names read etcd (v3 gateway): a value, an
# absent key with its default, and a directory of instances, each followed
# as keys are put and deleted.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_etcd
cat > "$T/pg.mustache" <<'TPL'
maxconn {{#key.config/maxconn}}{{.}}{{/key.config/maxconn}}{{^key.config/maxconn}}50{{/key.config/maxconn}}
{{#tree.services/postgres/instances}}
server {{key}} {{value}}:5432
{{/tree.services/postgres/instances}}
TPL
lg_etcd_put /services/postgres/instances/1/private_ip 10.0.19.22 >/dev/null
lg_bg legate "$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -template "$T/pg.mustache:$T/pg.cfg"
LEGATE_PID=$LG_LAST_PID
want() { printf '%s\n' "$@" > "$T/want"; lg_wait 10 "pg.cfg = $*" cmp -s "$T/want" "$T/pg.cfg" || { cat "$T/pg.cfg"; exit 1; }; }
want "maxconn 50" "server 1/private_ip 10.0.19.22:5432"
lg_etcd_put /config/maxconn 500 >/dev/null
lg_etcd_put /services/postgres/instances/2/private_ip 10.0.21.81 >/dev/null
want "maxconn 500" "server 1/private_ip 10.0.19.22:5432" \
	"server 2/private_ip 10.0.21.81:5432"
etcdctl del /services/postgres/instances/1/private_ip >/dev/null
etcdctl del /config/maxconn >/dev/null
want "maxconn 50" "server 2/private_ip 10.0.21.81:5432"
lg_alive "$LEGATE_PID" || lg_fail "legate exited"

# -etcd-v2: the classic layout written through the v2 API (a store etcd 3
# keeps apart from v3's).
curl -sSf -X PUT "http://$ETCD_ADDR/v2/keys/services/redis/instances/1/private_ip" -d value=10.0.0.7 >/dev/null
curl -sSf -X PUT "http://$ETCD_ADDR/v2/keys/services/redis/master" -d value=1 >/dev/null
printf 'master {{key.services/redis/master}}\n{{#tree.services/redis/instances}}{{key}}={{value}}\n{{/tree.services/redis/instances}}' > "$T/v2.mustache"
out=$("$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -etcd-v2 -once -dry -template "$T/v2.mustache:$T/v2.cfg")
[ "$out" = "> $T/v2.cfg
master 1
1/private_ip=10.0.0.7" ] || lg_fail "-etcd-v2 rendered: $out"
