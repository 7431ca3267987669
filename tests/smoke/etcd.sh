# Smoke: etcd starts with a temporary data dir; put and get work through the
# v3 JSON gateway and through the v2 API.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_etcd
lg_etcd_put /services/postgres/master 2 >/dev/null
got=$(lg_etcd_get /services/postgres/master)
[ "$got" = 2 ] || lg_fail "v3 gateway get: '$got'"
# etcdctl (v3) sees the same key.
got=$(etcdctl get --print-value-only /services/postgres/master)
[ "$got" = 2 ] || lg_fail "etcdctl get: '$got'"

# v2: a directory of instances, read back recursively.
curl -sSf -X PUT "http://$ETCD_ADDR/v2/keys/services/postgres/instances/1/private_ip" \
	-d value=10.0.19.22 >/dev/null
out=$(curl -sSf "http://$ETCD_ADDR/v2/keys/services/postgres/instances?recursive=true")
case $out in *'"value":"10.0.19.22"'*) ;; *) lg_fail "v2 get: $out" ;; esac
