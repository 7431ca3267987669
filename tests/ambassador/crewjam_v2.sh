# crewjam/ambassador's flags against the etcd v2 layout (--etcd-v2):
# --master-only follows the master, --public, a bare IP with --port, and
# refusal when no instance is left.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

cj_put() { curl -sSf -X PUT "http://$ETCD_ADDR/v2/keys$1" --data-urlencode "value=$2" >/dev/null; }
cj_del() { curl -sSf -X DELETE "http://$ETCD_ADDR/v2/keys$1" >/dev/null; }
CJ_FLAGS=--etcd-v2
. "$LEGATE_ROOT/tests/ambassador/crewjam.bash"
