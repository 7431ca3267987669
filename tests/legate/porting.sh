# Every row of the README's "Porting a consul-template template" table:
# its legate form, rendered by legate -once against a real Consul holding
# the data the section describes, must write the row's output column.
. "$LEGATE_ROOT/tests/lib.sh"

# The rows: one template line and one expected line each, from the README.
/usr/bin/python3 - "$LEGATE_ROOT/README.md" "$T/t.mustache" "$T/want" <<'PY'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
start = next(i for i, l in enumerate(lines) if l.startswith("<!-- porting:"))
rows = []
for l in lines[start + 3:]:
    if not l.startswith("| "):
        break
    cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", l)[1:-1]]
    rows.append((cells[2].strip("`"), cells[3].strip("`")))
with open(sys.argv[2], "w") as t, open(sys.argv[3], "w") as w:
    for tpl, out in rows:
        t.write(tpl + "\n")
        w.write(out + "\n")
print("# %d rows" % len(rows), file=sys.stderr)
PY
[ -s "$T/t.mustache" ] || lg_fail "no rows found in the README"

lg_start_consul
lg_consul PUT /v1/agent/service/register '{"ID":"web-1","Name":"web","Address":"10.0.0.1","Port":8080,
 "Tags":["haproxy","v2"],"Meta":{"version":"2","zone":"a"},"Weights":{"Passing":3,"Warning":1},
 "TaggedAddresses":{"wan":{"Address":"192.0.2.1","Port":80}},
 "Check":{"CheckID":"web-1-ttl","Name":"web ttl","TTL":"600s","Status":"passing"}}' > /dev/null
lg_consul PUT /v1/agent/service/register '{"ID":"web-2","Name":"web","Address":"10.0.0.2","Port":8081,
 "Tags":["v1"],"Meta":{"version":"1"}}' > /dev/null
lg_consul PUT /v1/agent/service/register '{"ID":"api-1","Name":"api","Address":"10.0.0.3","Port":9000,
 "Tags":["haproxy"]}' > /dev/null
lg_consul PUT /v1/kv/service/web/maxconn 100 > /dev/null
lg_wait 10 "the services in the catalog" sh -c \
	"curl -sf http://$CONSUL_HTTP_ADDR/v1/health/service/web?passing | grep -q web-2"

HAPROXY_REDISPATCH=1 BACKENDS=a:1,b:2 "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" \
	-once -template "$T/t.mustache:$T/out" || lg_fail "legate -once exited $?"
if ! diff -u "$T/want" "$T/out"; then
	paste -d '\n' "$T/t.mustache" "$T/out" | sed 's/^/# /' >&2
	lg_fail "a row of the porting table renders otherwise"
fi
lg_log "$(wc -l < "$T/want") rows of the porting table render as the README says"
