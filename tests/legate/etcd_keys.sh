# One template naming 1,000 etcd keys and a tree: -once renders them all,
# and the daemon follows a change to one key, on a handful of connections
# to etcd (the watches share one stream; reads go 64 keys to a call).  The
# v2 API likewise with 200 keys (one recursive wait for all of them).
# legate-test: timeout=180
. "$LEGATE_ROOT/tests/lib.sh"

N=1000
lg_start_etcd
# The keys go in by txns of 100 puts; the template names each once.
python3 - "$N" "$T" <<'PY'
import base64, json, sys
n, t = int(sys.argv[1]), sys.argv[2]
b = lambda s: base64.b64encode(s.encode()).decode()
for start in range(1, n + 1, 100):
    ops = [{"request_put": {"key": b("/cfg/k%d" % i), "value": b("v%d" % i)}}
           for i in range(start, min(start + 100, n + 1))]
    open("%s/put%d.json" % (t, start), "w").write(json.dumps({"success": ops}))
with open("%s/keys.mustache" % t, "w") as f:
    for i in range(1, n + 1):
        f.write("k%d={{key.cfg/k%d}}\n" % (i, i))
    f.write("{{#tree.pool/}}{{key}}={{value}}\n{{/tree.pool/}}")
with open("%s/want" % t, "w") as f:
    for i in range(1, n + 1):
        f.write("k%d=v%d\n" % (i, i))
    f.write("a=1\n")
PY
for f in "$T"/put*.json; do
	curl -sSf "http://$ETCD_ADDR/v3/kv/txn" -d @"$f" > /dev/null
done
lg_etcd_put /pool/a 1 > /dev/null

# -once: every key in the file, in one run.
"$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -once -template "$T/keys.mustache:$T/once.cfg" \
	> "$T/once.log" 2>&1 || { cat "$T/once.log"; lg_fail "-once failed"; }
cmp -s "$T/want" "$T/once.cfg" || { diff "$T/want" "$T/once.cfg" | head; lg_fail "-once: wrong file"; }

# The daemon: the same file, then a change to one key and to the tree.
lg_bg legate "$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -log-level info \
	-template "$T/keys.mustache:$T/keys.cfg"
LEGATE_PID=$LG_LAST_PID
lg_wait 30 "the first render" cmp -s "$T/want" "$T/keys.cfg"
conns() { ss -tnpH state established "( dport = :$ETCD_PORT )" | grep -c "pid=$LEGATE_PID," || true; }
lg_log "connections to etcd after the first render: $(conns)"
lg_etcd_put /cfg/k500 changed > /dev/null
sed -i 's/^k500=v500$/k500=changed/' "$T/want"
lg_wait 10 "k500 to change" cmp -s "$T/want" "$T/keys.cfg"
lg_etcd_put /pool/b 2 > /dev/null
echo b=2 >> "$T/want"
lg_wait 10 "the tree to grow" cmp -s "$T/want" "$T/keys.cfg"
n=$(conns)
lg_log "connections to etcd held while following $N keys: $n"
[ "$n" -ge 1 ] && [ "$n" -le 6 ] || lg_fail "$n connections to etcd, want 1 to 6"
lg_alive "$LEGATE_PID" || lg_fail "legate exited"
kill "$LEGATE_PID"

# v2: 200 keys written through the v2 API, one template.
M=200
: > "$T/v2.mustache"
: > "$T/v2want"
for ((i = 1; i <= M; i++)); do
	curl -sSf -X PUT "http://$ETCD_ADDR/v2/keys/v2cfg/k$i" -d value="v$i" > /dev/null
	printf 'k%d={{key.v2cfg/k%d}}\n' "$i" "$i" >> "$T/v2.mustache"
	printf 'k%d=v%d\n' "$i" "$i" >> "$T/v2want"
done
"$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -etcd-v2 -once -template "$T/v2.mustache:$T/v2once.cfg" \
	> "$T/v2once.log" 2>&1 || { cat "$T/v2once.log"; lg_fail "-etcd-v2 -once failed"; }
cmp -s "$T/v2want" "$T/v2once.cfg" || lg_fail "-etcd-v2 -once: wrong file"
lg_bg legate-v2 "$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -etcd-v2 -template "$T/v2.mustache:$T/v2.cfg"
LEGATE_PID=$LG_LAST_PID
lg_wait 30 "the first v2 render" cmp -s "$T/v2want" "$T/v2.cfg"
curl -sSf -X PUT "http://$ETCD_ADDR/v2/keys/v2cfg/k77" -d value=changed > /dev/null
sed -i 's/^k77=v77$/k77=changed/' "$T/v2want"
lg_wait 10 "k77 to change (v2)" cmp -s "$T/v2want" "$T/v2.cfg"
n=$(conns)
lg_log "connections to etcd held while following $M keys through v2: $n"
[ "$n" -ge 1 ] && [ "$n" -le 6 ] || lg_fail "$n connections to etcd (v2), want 1 to 6"
lg_alive "$LEGATE_PID" || lg_fail "legate exited"
echo ok
