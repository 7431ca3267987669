# crewjam/ambassador's flags against etcd v3 keys of the same names:
# --master-only follows the master, --public, a bare IP with --port, and
# refusal when no instance is left.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

cj_put() { lg_etcd_put "$1" "$2" >/dev/null; }
cj_del() { etcdctl del "$1" >/dev/null; }
CJ_FLAGS=
. "$LEGATE_ROOT/tests/ambassador/crewjam.bash"
