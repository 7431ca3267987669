# legate follows a service scaled 1 -> 5 -> 0: the file shows exactly the
# passing instances each time, and nothing is written before data arrives.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_consul
cat > "$T/web.mustache" <<'TPL'
# web backends
{{#service.web}}
server {{id}} {{address}}:{{port}}
{{/service.web}}
TPL
lg_consul_register web-1 web 9001 >/dev/null
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" \
	-template "$T/web.mustache:$T/out/web.cfg" -log-level debug
expect() {
	printf '# web backends\n' > "$T/want"
	for i in "$@"; do printf 'server web-%s 127.0.0.1:900%s\n' "$i" "$i"; done >> "$T/want"
	lg_wait 10 "web.cfg with instances [$*]" cmp -s "$T/want" "$T/out/web.cfg"
}
expect 1
for i in 2 3 4 5; do lg_consul_register "web-$i" web "900$i" >/dev/null; done
expect 1 2 3 4 5
for i in 1 2 3 4 5; do lg_consul_deregister "web-$i" >/dev/null; done
expect
lg_consul_register web-3 web 9003 >/dev/null
expect 3
lg_alive "$LG_LAST_PID" || lg_fail "legate exited"
