# services~tag=T lists only the services carrying T, and only their
# instances are watched: an untagged service costs no watch until it is
# tagged.  Its {{#instances}} are only the instances carrying T.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_consul
sp=$(lg_ports 1)
cat > "$T/t.mustache" <<'TPL'
{{#services~tag=haproxy}}
backend {{name}}
{{#instances}}
  server {{id}} {{port}}
{{/instances}}
{{/services~tag=haproxy}}
TPL
lg_consul_register web-1 web 9001 '["haproxy"]' >/dev/null
lg_consul_register api-1 api 9002 '["haproxy","v2"]' >/dev/null
lg_consul_register db-1 db 9003 '["internal"]' >/dev/null
lg_consul_register web-2 web 9004 '["other"]' >/dev/null
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" \
	-template "$T/t.mustache:$T/out.cfg" -status-addr "127.0.0.1:$sp"
want() { printf '%s\n' "$@" > "$T/want"; lg_wait 10 "out.cfg = $*" cmp -s "$T/want" "$T/out.cfg"; }
want "backend api" "  server api-1 9002" "backend web" "  server web-1 9001"
deps=$(curl -sf "http://127.0.0.1:$sp/status" | tr -d ' \n')
case $deps in *'"depends_on":["services~tag=haproxy","service.api~tag=haproxy","service.web~tag=haproxy"]'*) ;;
*) lg_fail "depends_on: $deps" ;; esac

# Tagging db brings it in; untagging web takes it out.
lg_consul_register db-1 db 9003 '["internal","haproxy"]' >/dev/null
lg_consul_register web-1 web 9001 '[]' >/dev/null
want "backend api" "  server api-1 9002" "backend db" "  server db-1 9003"
lg_wait 5 "service.web no longer watched" sh -c \
	"! curl -sf http://127.0.0.1:$sp/status | tr -d ' \n' | grep -q '\"name\":\"service.web~tag=haproxy\"'"
