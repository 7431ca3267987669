#!/usr/bin/env bash
# tests/spec/render_cmd.sh: "legate render" end to end: output on stdout,
# errors on stderr as FILE:LINE:COL with a non-zero exit, config escaping
# refusing a newline from data, partials from a directory, strictness.
set -euo pipefail
: "${LEGATE_ROOT:?run through tests/run or make check}"
: "${LEGATE_BIN:=$LEGATE_ROOT/bin}"
legate=$LEGATE_BIN/legate
d=$(mktemp -d "${TMPDIR:-/tmp}/render.XXXXXX")
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# expect_err WANT ARGS...: the command fails and stderr contains WANT.
expect_err() {
	local want=$1 rc=0
	shift
	"$legate" render "$@" > "$d/out" 2> "$d/err" || rc=$?
	[ "$rc" -ne 0 ] || fail "render $* succeeded; want an error with: $want"
	[ ! -s "$d/out" ] || fail "render $* wrote to stdout on error: $(cat "$d/out")"
	grep -qF -- "$want" "$d/err" || fail "render $*: stderr is '$(cat "$d/err")', want '$want'"
}

mkdir "$d/partials"
printf 'server {{id}} {{address}}:{{port}} check\n' > "$d/partials/server.mustache"
cat > "$d/haproxy.cfg.mustache" <<'T'
global
  maxconn {{maxconn}}
{{#services}}

backend {{name}}
  {{#instances}}
  {{>server}}
  {{/instances}}
{{/services}}
T
cat > "$d/data.json" <<'J'
{"maxconn": 2000, "ratio": 1.1, "services": [
  {"name": "web", "instances": [{"id": "web-1", "address": "10.0.0.1", "port": 80},
                                {"id": "web-2", "address": "10.0.0.2", "port": 8080}]},
  {"name": "api&co", "instances": []}]}
J
"$legate" render -partials "$d/partials" "$d/haproxy.cfg.mustache" "$d/data.json" > "$d/out"
cat > "$d/want" <<'W'
global
  maxconn 2000

backend web
  server web-1 10.0.0.1:80 check
  server web-2 10.0.0.2:8080 check

backend api&co
W
diff -u "$d/want" "$d/out" || fail "haproxy config differs"

# HTML escaping only when asked; numbers in their shortest form.
printf '{{#services}}{{name}} {{/services}}{{ratio}}\n' > "$d/t"
[ "$("$legate" render -escape html "$d/t" "$d/data.json")" = "web api&amp;co 1.1" ] ||
	fail "html escaping: $("$legate" render -escape html "$d/t" "$d/data.json")"
[ "$("$legate" render "$d/t" "$d/data.json")" = "web api&co 1.1" ] || fail "config default"

# A service name with a newline must not add a line to the config.
printf '{"services": [{"name": "web\\n  server evil 6.6.6.6:80", "instances": []}]}\n' > "$d/evil.json"
expect_err "haproxy.cfg.mustache:5:9: {{name}}: the value has a newline (byte 4)" \
	-partials "$d/partials" "$d/haproxy.cfg.mustache" "$d/evil.json"
# ... unless the template asks for raw output explicitly.
printf 'backend {{{name}}}{{/services}}' > "$d/raw"
printf '{{#services}}' | cat - "$d/raw" > "$d/raw.mustache"
"$legate" render "$d/raw.mustache" "$d/evil.json" | grep -q 'server evil' || fail "raw path"
# -escape none writes anything.
"$legate" render -escape none -partials "$d/partials" "$d/haproxy.cfg.mustache" "$d/evil.json" > /dev/null

# Template errors carry file:line:col.
printf 'a\n{{#services}}\n  {{name}}\n{{/service}}\n' > "$d/bad1"
expect_err "bad1:4:1: {{/service}} does not match the section \"services\" opened at 2:1" "$d/bad1" "$d/data.json"
printf 'x\n  {{#a}}\n' > "$d/bad2"
expect_err "bad2:2:3: section \"a\" is never closed" "$d/bad2" "$d/data.json"
printf '%s\n' '{{=<% %>=}}' '<%name}}' > "$d/bad3"
expect_err "bad3:2:1: unclosed tag" "$d/bad3" "$d/data.json"
printf '%s' '{{= <% =}}' > "$d/bad4"
expect_err "bad4:1:1: delimiter change needs two delimiters" "$d/bad4" "$d/data.json"

# Missing partial: empty with a warning, an error with -strict.
printf '[{{>nope}}]\n' > "$d/p"
[ "$("$legate" render -partials "$d/partials" "$d/p" "$d/data.json" 2> "$d/err")" = "[]" ] || fail "missing partial"
grep -q 'legate: warn: .*p:1:2: partial "nope" not found' "$d/err" || fail "no warning: $(cat "$d/err")"
expect_err 'p:1:2: partial "nope" not found' -strict -partials "$d/partials" "$d/p" "$d/data.json"

# Recursion is bounded.
printf '{{>loop}}' > "$d/partials/loop.mustache"
expect_err "nested deeper than" -partials "$d/partials" "$d/partials/loop.mustache" "$d/data.json"

# Bad inputs: unreadable files, bad JSON, bad flags.
expect_err "$d/none: cannot open" "$d/none" "$d/data.json"
printf '{"a": ' > "$d/bad.json"
expect_err "bad.json:1:" "$d/t" "$d/bad.json"
expect_err "unknown mode" -escape xml "$d/t" "$d/data.json"
expect_err "usage: legate render" "$d/t"
# -names: each name once per meaning, where, and the watch it becomes; a
# bad watch name fails, and so does a name the runner refuses outside every
# section (no data name, instances, a [ref] part that is no data name).
cat > "$d/n.mustache" <<'T'
{{#services~tag=haproxy}}
backend {{name|replace:.:_}} {{key.service/[name]/maxconn|default:100}}
{{#instances}}{{id}}{{/instances}}
{{/services~tag=haproxy}}
{{#env.REDISPATCH=1}}option redispatch{{/env.REDISPATCH=1}}
{{key.config/maxconn}} {{maxconn}} {{#service.web~tag=a}}{{address}}{{/service.web~tag=a}}
T
rc=0
"$legate" render -names "$d/n.mustache" > "$d/out" || rc=$?
[ "$rc" = 1 ] || fail "render -names: $rc, want 1"
cat > "$d/want" <<'W'
1:1	services~tag=haproxy	watch services~tag=haproxy
2:9	name	from the data around it
2:30	key.service/[name]/maxconn	built at render from its [parts]; each name it becomes is a watch
3:1	instances	watch service.NAME of the enclosing services item, with its filters
3:15	id	from the data around it
5:1	env.REDISPATCH	environment, read at render (not watched)
6:1	key.config/maxconn	watch key.config/maxconn
6:24	maxconn	error: not a data name, a render error outside every section (a typo?)
6:36	service.web~tag=a	watch service.web~tag=a
6:58	address	from the data around it
W
diff -u "$d/want" "$d/out" || fail "render -names"
printf '{{#services}}{{#instances}}{{port}}{{/instances}}{{/services}}{{^port}}{{instances}}{{/port}}{{key.[svc]}}\n' \
	> "$d/root.mustache"
rc=0
"$legate" render -names "$d/root.mustache" > "$d/out" || rc=$?
cat > "$d/want" <<'W'
1:1	services	watch services
1:14	instances	watch service.NAME of the enclosing services item, with its filters
1:28	port	from the data around it
1:63	port	error: not a data name, a render error outside every section (a typo?)
1:72	instances	error: outside every section, instances is a render error
1:94	key.[svc]	built at render from its [parts]; each name it becomes is a watch
1:94	svc	error: not a data name, a render error outside every section (a typo?)
W
[ "$rc" = 1 ] || fail "render -names on root names: $rc, want 1"
diff -u "$d/want" "$d/out" || fail "render -names on root names"
printf '{{#services}}{{#instances}}{{port}}{{/instances}}{{/services}}\n' > "$d/ok.mustache"
"$legate" render -names "$d/ok.mustache" > /dev/null || fail "render -names on a good template: $?"
printf '{{#service.web~tga=x}}{{/service.web~tga=x}}' > "$d/typo.mustache"
rc=0
"$legate" render -names "$d/typo.mustache" > "$d/out" || rc=$?
[ "$rc" = 1 ] && grep -q 'service.web~tga	error: service.web~tga: unknown filter ~tga' "$d/out" ||
	fail "render -names on a bad filter: rc $rc, $(cat "$d/out")"
echo "legate render: ok"
