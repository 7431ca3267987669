# etcd with authentication on: legate signs in through the v3 gateway
# (-etcd-user "user:password", or -etcd-user and -etcd-password, or
# ETCDCTL_USER), reads what its role allows, signs in again when etcd
# forgets the token (it expires after a second unused here), and a wrong
# password renders nothing.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_etcd --auth-token-ttl 1
ctl() { etcdctl --user root:rootpw "$@" > /dev/null; }
etcdctl user add root:rootpw > /dev/null
etcdctl user grant-role root root > /dev/null
etcdctl role add cfg-reader > /dev/null
etcdctl role grant-permission cfg-reader read /app/ --prefix=true > /dev/null
etcdctl user add reader:readpw > /dev/null
etcdctl user grant-role reader cfg-reader > /dev/null
etcdctl auth enable > /dev/null
ctl put /app/maxconn 100
ctl put /app/pool/a 10.0.0.1
printf 'maxconn {{key.app/maxconn}}\n{{#tree.app/pool/}}{{key}} {{value}}\n{{/tree.app/pool/}}' > "$T/t.mustache"
want="> $T/t.cfg
maxconn 100
a 10.0.0.1"

out=$("$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -etcd-user reader:readpw -once -dry \
	-template "$T/t.mustache:$T/t.cfg")
[ "$out" = "$want" ] || lg_fail "-etcd-user user:password: rendered: $out"
out=$("$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -etcd-user reader -etcd-password readpw -once -dry \
	-template "$T/t.mustache:$T/t.cfg")
[ "$out" = "$want" ] || lg_fail "-etcd-user -etcd-password: rendered: $out"
out=$(ETCDCTL_USER=reader:readpw "$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -once -dry \
	-template "$T/t.mustache:$T/t.cfg")
[ "$out" = "$want" ] || lg_fail "ETCDCTL_USER: rendered: $out"

# Without a user, or with a wrong password: nothing rendered, the reason logged.
rc=0
timeout 4 "$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -once -template "$T/t.mustache:$T/none.cfg" \
	> "$T/anon.log" 2>&1 || rc=$?
[ "$rc" = 124 ] && [ ! -e "$T/none.cfg" ] || lg_fail "without a user: exit $rc"
grep -q 'user name is empty\|permission denied\|HTTP 4' "$T/anon.log" || { cat "$T/anon.log"; lg_fail "no reason logged"; }
rc=0
timeout 4 "$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -etcd-user reader:wrong -once \
	-template "$T/t.mustache:$T/none.cfg" > "$T/wrong.log" 2>&1 || rc=$?
[ "$rc" = 124 ] && [ ! -e "$T/none.cfg" ] || lg_fail "with a wrong password: exit $rc"
grep -q 'authenticate as reader' "$T/wrong.log" || { cat "$T/wrong.log"; lg_fail "no reason logged"; }

# The daemon follows; etcd restarted forgets its tokens, legate signs in again.
lg_bg legate "$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -etcd-user reader:readpw -log-level info \
	-template "$T/t.mustache:$T/t.cfg"
LEGATE_PID=$LG_LAST_PID
lg_wait 10 "the first render" grep -qx 'maxconn 100' "$T/t.cfg"
ctl put /app/maxconn 200
lg_wait 10 "the change" grep -qx 'maxconn 200' "$T/t.cfg"
lg_stop_etcd
lg_run_etcd
ctl put /app/pool/b 10.0.0.2
lg_wait 20 "the change after the restart" grep -qx 'b 10.0.0.2' "$T/t.cfg"
grep -qx 'maxconn 200' "$T/t.cfg" || lg_fail "lost maxconn: $(cat "$T/t.cfg")"
# A key read afresh after the token expired needs a new one.
ctl put /app/extra yes
sleep 2
printf 'extra {{key.app/extra}}\n' >> "$T/t.mustache"
kill -HUP "$LEGATE_PID"
lg_wait 20 "the key added after the restart" grep -qx 'extra yes' "$T/t.cfg"
grep -q 'invalid auth token.*; signing in again' "$T/legate.log" || lg_fail "the old token was not refused"
lg_alive "$LEGATE_PID" || lg_fail "legate exited"
echo ok
