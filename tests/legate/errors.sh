# Bad input never costs the installed file: a template that does not compile
# is refused with file:line:col (at start-up, and on SIGHUP, where the old
# configuration keeps running); a service name holding a newline is a render
# error naming the template, line and tag, and the file stays as it was.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_consul
sp=$(lg_ports 1)

# At start-up: exit 2, the message names the file, line and column.
printf 'backends:\n{{#services}}\n  {{name}}\n' > "$T/bad.mustache"
if "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -template "$T/bad.mustache:$T/x.cfg" \
	2> "$T/start.err"; then
	lg_fail "legate started with an unclosed section"
fi
grep -q "bad.mustache:2:[0-9]*: .*services" "$T/start.err" || lg_fail "no file:line:col in: $(cat "$T/start.err")"
[ ! -e "$T/x.cfg" ] || lg_fail "a destination was written from a broken template"

# A good template, running.
cat > "$T/t.mustache" <<'TPL'
{{#services}}
backend {{name}}
{{/services}}
TPL
lg_consul_register web-1 web 9001 >/dev/null
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" \
	-template "$T/t.mustache:$T/out.cfg" -status-addr "127.0.0.1:$sp"
LEGATE_PID=$LG_LAST_PID
lg_wait 10 "out.cfg with web" grep -qx "backend web" "$T/out.cfg"
cp "$T/out.cfg" "$T/good.cfg"
lg_wait 5 "/health 200" curl -sf "http://127.0.0.1:$sp/health"

# SIGHUP with a broken template: refused, the old one keeps running.
printf '{{#services}}\nbackend {{name}}\n{{/nope}}\n' > "$T/t.mustache"
kill -HUP "$LEGATE_PID"
lg_wait 5 "reload refused in the log" grep -q "reload refused.*t.mustache:3:" "$T/legate.log"
lg_alive "$LEGATE_PID" || lg_fail "legate exited on a bad reload"
lg_consul_register api-1 api 9002 >/dev/null
lg_wait 10 "the old template still rendering (api)" grep -qx "backend api" "$T/out.cfg"
cp "$T/out.cfg" "$T/good.cfg"

# A service name with a newline: a render error, the file untouched.
printf '{{#services}}\nbackend {{name}}\n{{/services}}\n' > "$T/t.mustache"
kill -HUP "$LEGATE_PID"
lg_consul PUT /v1/agent/service/register \
	'{"ID":"evil-1","Name":"evil\nlisten pwn","Address":"127.0.0.1","Port":9003}' >/dev/null ||
	lg_skip "this Consul refuses service names with a newline"
lg_wait 10 "a render error naming t.mustache:2 and the tag" \
	grep -q "t.mustache:2:[0-9]*: .*name" "$T/legate.log"
cmp -s "$T/good.cfg" "$T/out.cfg" || lg_fail "out.cfg changed: $(cat "$T/out.cfg")"
grep -q "listen pwn" "$T/out.cfg" && lg_fail "a newline reached the config"
code=$(curl -s -o "$T/health" -w '%{http_code}' "http://127.0.0.1:$sp/health")
[ "$code" = 503 ] || lg_fail "/health answered $code with a render error"
grep -q render_error "$T/health" || lg_fail "/health does not say why: $(cat "$T/health")"

# Removing the bad service heals it.
lg_consul_deregister evil-1 >/dev/null
lg_wait 10 "/health 200 again" curl -sf "http://127.0.0.1:$sp/health"
lg_alive "$LEGATE_PID" || lg_fail "legate exited"
