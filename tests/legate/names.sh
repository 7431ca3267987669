# Data names.  Outside every section, a name that is not data (a misspelt
# root such as servce.web) is a render error naming FILE:LINE:COL and the
# name, and nothing is written.  Inside a section, a field the item lacks
# renders empty, or is a render error with the template's
# error_on_missing_key (sections keep testing presence).  {{key.PATH}}
# interpolated while the key does not exist holds the template: nothing is
# written, /health and /status say "waiting for key.PATH" (once installed,
# the file stays when the key goes, and /status says so); a section and
# an inverted section on a key still give a default, and so does a
# |default filter.  A name built from [ref] parts follows the same rules,
# each part too, and `legate render -names` flags what the render refuses.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_consul
lg_consul_register web-1 web 9001 > /dev/null

# A misspelt root, or a name that is data only inside a section: -once
# fails (status 1) naming the place and the name, and writes nothing.
bad() {
	local name=$1 text=$2 where=$3 rc=0
	printf '%b' "$text" > "$T/$name.mustache"
	"$LEGATE_BIN/legate" -once -consul-addr "$CONSUL_HTTP_ADDR" -template "$T/$name.mustache:$T/$name.cfg" \
		> "$T/$name.log" 2>&1 || rc=$?
	LG_LOGS+=("$T/$name.log")
	[ "$rc" = 1 ] || lg_fail "$name: exit $rc, want 1"
	grep -q "$name.mustache:$where: not a data name" "$T/$name.log" || lg_fail "$name: $(cat "$T/$name.log")"
	[ ! -e "$T/$name.cfg" ] || lg_fail "$name: a file was written"
}
bad typo 'backends\n  {{#servce.web}}server {{id}}{{/servce.web}}\n' "2:3: servce.web"
bad plain 'host {{hostname}}\n' "1:6: hostname"
bad instances '{{#instances}}{{id}}{{/instances}}\n' "1:1: instances"
bad service '{{#service}}{{id}}{{/service}}\n' "1:1: service"
bad env 'x {{env}}\n' "1:3: env"
bad ref '{{key.limits/[which]}}\n' "1:1: which"
bad inverted '{{^service.web}}{{port}}{{/service.web}}\n' "1:17: port"
# render -names refuses the same names.
for n in typo plain instances service env ref inverted; do
	rc=0
	"$LEGATE_BIN/legate" render -names "$T/$n.mustache" > "$T/$n.names" 2>&1 || rc=$?
	[ "$rc" = 1 ] && grep -q "	error: " "$T/$n.names" || lg_fail "render -names $n: rc $rc, $(cat "$T/$n.names")"
done

# A field the instances lack: empty by default, an error with
# error_on_missing_key; a section on it is fine either way.
cat > "$T/fields.hcl" <<HCL
template {
  contents    = "{{#service.web}}{{id}} w={{weight}}{{^weight}} default{{/weight}}\n{{/service.web}}"
  destination = "$T/lax.cfg"
}
HCL
"$LEGATE_BIN/legate" -once -consul-addr "$CONSUL_HTTP_ADDR" -config "$T/fields.hcl" > "$T/lax.log" 2>&1 ||
	lg_fail "lax: exit $?: $(cat "$T/lax.log")"
LG_LOGS+=("$T/lax.log")
grep -qx "web-1 w= default" "$T/lax.cfg" || lg_fail "lax.cfg: $(cat "$T/lax.cfg")"
cat > "$T/strict.hcl" <<HCL
template {
  contents    = "{{#service.web}}{{id}} w={{weight}}\n{{/service.web}}"
  destination = "$T/strict.cfg"
  error_on_missing_key = true
}
template {
  contents    = "{{#service.web}}{{id}}{{^weight}} default{{/weight}} w={{weight|default:1}}\n{{/service.web}}"
  destination = "$T/strict-section.cfg"
  error_on_missing_key = true
}
HCL
rc=0
"$LEGATE_BIN/legate" -once -consul-addr "$CONSUL_HTTP_ADDR" -config "$T/strict.hcl" > "$T/strict.log" 2>&1 || rc=$?
LG_LOGS+=("$T/strict.log")
[ "$rc" = 1 ] || lg_fail "strict: exit $rc, want 1"
grep -q "strict.hcl:1:1:[0-9]*: weight: no such name (error_on_missing_key)" "$T/strict.log" ||
	lg_fail "strict: $(cat "$T/strict.log")"
[ ! -e "$T/strict.cfg" ] || lg_fail "strict: a file was written"
grep -qx "web-1 default w=1" "$T/strict-section.cfg" || lg_fail "strict-section.cfg: $(cat "$T/strict-section.cfg" 2>&1)"

# An absent key, interpolated: the template waits; the section default
# does not hold it.
sp=$(lg_ports 1)
printf 'maxconn {{key.config/maxconn}}\n{{#key.config/timeout}}timeout {{.}}{{/key.config/timeout}}{{^key.config/timeout}}timeout 5s{{/key.config/timeout}}\n' \
	> "$T/kv.mustache"
printf 'only {{#key.config/absent}}{{.}}{{/key.config/absent}}{{^key.config/absent}}default{{/key.config/absent}}\nd {{key.config/absent|default:50}}\n' \
	> "$T/default.mustache"
printf 'm {{key.limits/[key.which]}}\n' > "$T/ref.mustache"
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -status-addr "127.0.0.1:$sp" \
	-template "$T/kv.mustache:$T/kv.cfg" -template "$T/default.mustache:$T/default.cfg" \
	-template "$T/ref.mustache:$T/ref.cfg"
LEGATE_PID=$LG_LAST_PID
lg_wait 10 "default.cfg from the inverted section" grep -qx "only default" "$T/default.cfg"
grep -qx "d 50" "$T/default.cfg" || lg_fail "default.cfg: $(cat "$T/default.cfg")"
lg_wait 10 "/health naming the key" sh -c \
	"curl -s http://127.0.0.1:$sp/health | grep -q 'kv.cfg: waiting for key.config/maxconn'"
curl -s "http://127.0.0.1:$sp/status" | lg_compact | lg_grepq '"waiting_for":"key.config/maxconn"' ||
	lg_fail "/status: no waiting_for"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$sp/health")
[ "$code" = 503 ] || lg_fail "/health $code while waiting"
[ ! -e "$T/kv.cfg" ] || lg_fail "kv.cfg written while its key is absent: $(cat "$T/kv.cfg")"
lg_consul PUT /v1/kv/config/maxconn 64 > /dev/null
lg_wait 10 "kv.cfg once the key exists" grep -qx "maxconn 64" "$T/kv.cfg"
grep -qx "timeout 5s" "$T/kv.cfg" || lg_fail "kv.cfg: $(cat "$T/kv.cfg")"
lg_consul PUT /v1/kv/config/timeout 9s > /dev/null
lg_wait 10 "kv.cfg with the timeout" grep -qx "timeout 9s" "$T/kv.cfg"
# A key named by a key: held while the part is absent, then while the
# name it builds is.
curl -s "http://127.0.0.1:$sp/health" | lg_grepq 'ref.cfg: waiting for key.which' ||
	lg_fail "/health: ref.cfg not waiting for key.which: $(curl -s "http://127.0.0.1:$sp/health")"
lg_consul PUT /v1/kv/which web > /dev/null
lg_wait 10 "/health naming the built key" sh -c \
	"curl -s http://127.0.0.1:$sp/health | grep -q 'ref.cfg: waiting for key.limits/web'"
[ ! -e "$T/ref.cfg" ] || lg_fail "ref.cfg written while its key is absent: $(cat "$T/ref.cfg")"
lg_consul PUT /v1/kv/limits/web 5 > /dev/null
lg_wait 10 "ref.cfg once both keys exist" grep -qx "m 5" "$T/ref.cfg"
lg_wait 5 "/health 200" curl -sf "http://127.0.0.1:$sp/health"
# The key deleted again: the file stays as it was, the template waits.
# The key deleted again: the template waits (in /status) and the installed
# file, the last good one, stays as it was.
lg_consul DELETE /v1/kv/config/maxconn > /dev/null
lg_wait 10 "/status naming the key again" sh -c \
	"curl -s http://127.0.0.1:$sp/status | tr -d ' \n' | grep -q '\"waiting_for\":\"key.config/maxconn\"'"
grep -qx "maxconn 64" "$T/kv.cfg" || lg_fail "kv.cfg changed: $(cat "$T/kv.cfg")"
lg_alive "$LEGATE_PID" || lg_fail "legate exited"
echo ok
