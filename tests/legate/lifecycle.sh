# -once renders and exits 0; -dry prints instead of installing; SIGHUP
# with a changed template list adds and drops templates without opening
# new connections for watches it keeps; SIGTERM exits in under a second.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_consul
lg_consul_register web-1 web 9001 >/dev/null
printf '{{#service.web}}{{id}}\n{{/service.web}}' > "$T/a.mustache"
printf 'maxconn {{key.config/maxconn}}\n' > "$T/b.mustache"

# -once
"$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -once -template "$T/a.mustache:$T/once.cfg" ||
	lg_fail "-once exited $?"
[ "$(cat "$T/once.cfg")" = web-1 ] || lg_fail "-once wrote: $(cat "$T/once.cfg")"
# -once with a template that cannot be read: non-zero, with the reason.
if "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -once -template "$T/none.mustache:$T/x" 2> "$T/err"; then
	lg_fail "-once succeeded without a template"
fi
grep -q "none.mustache: cannot open" "$T/err" || lg_fail "reason missing: $(cat "$T/err")"
# -dry prints and installs nothing.
out=$("$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -once -dry -template "$T/a.mustache:$T/dry.cfg")
[ "$out" = "> $T/dry.cfg
web-1" ] || lg_fail "-dry printed: $out"
[ ! -e "$T/dry.cfg" ] || lg_fail "-dry installed a file"

# Owner and mode of the installed file; an unknown user is refused up front.
cat > "$T/owner.hcl" <<CFG
template {
  source = "$T/a.mustache"
  destination = "$T/owned.cfg"
  user = "nobody"
  group = "65534"
  perms = 0640
}
CFG
"$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -once -config "$T/owner.hcl" || lg_fail "-once with an owner exited $?"
[ "$(stat -c '%U %g %a' "$T/owned.cfg")" = "nobody 65534 640" ] || lg_fail "owner/mode: $(stat -c '%U %g %a' "$T/owned.cfg")"
sed -i 's/"nobody"/"no-such-user-here"/' "$T/owner.hcl"
if "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -once -config "$T/owner.hcl" 2> "$T/err"; then
	lg_fail "an unknown user was accepted"
fi
grep -q 'owner.hcl:1: user "no-such-user-here" not found' "$T/err" || lg_fail "error: $(cat "$T/err")"

# SIGHUP with a changed template list.
sp=$(lg_ports 1)
lg_consul PUT /v1/kv/config/maxconn 7 >/dev/null
cat > "$T/one.hcl" <<CFG
template {
  source = "$T/a.mustache"
  destination = "$T/a.cfg"
}
CFG
cat > "$T/two.hcl" <<CFG
template {
  source = "$T/a.mustache"
  destination = "$T/a.cfg"
}
template {
  source = "$T/b.mustache"
  destination = "$T/b.cfg"
}
CFG
cp "$T/one.hcl" "$T/legate.hcl"
lg_bg legate "$LEGATE_BIN/legate" -consul-addr "$CONSUL_HTTP_ADDR" -config "$T/legate.hcl" \
	-status-addr "127.0.0.1:$sp"
LEGATE_PID=$LG_LAST_PID
lg_wait 10 "a.cfg" grep -qx web-1 "$T/a.cfg"
metric() { curl -sf "http://127.0.0.1:$sp/metrics" | sed -n "s/^$1 \([0-9]*\)\$/\1/p"; }
lg_wait 5 "status" test -n "$(metric legate_watches)"
w1=$(metric legate_watches)
[ "$w1" = 1 ] || lg_fail "one template on service.web holds $w1 watches"
for round in 1 2 3; do
	cp "$T/two.hcl" "$T/legate.hcl"
	kill -HUP "$LEGATE_PID"
	lg_wait 10 "b.cfg (round $round)" grep -qx "maxconn 7" "$T/b.cfg"
	rm -f "$T/b.cfg"
	cp "$T/one.hcl" "$T/legate.hcl"
	kill -HUP "$LEGATE_PID"
	lg_wait 10 "the reload (round $round)" sh -c "curl -sf http://127.0.0.1:$sp/metrics | grep -q '^legate_config_reloads_total $((round * 2))'"
done
sleep 1
[ ! -e "$T/b.cfg" ] || lg_fail "a dropped template was still rendered"
w2=$(metric legate_watches)
c2=$(metric legate_connections)
[ "$w2" = "$w1" ] || lg_fail "watches changed across reloads: $w1 -> $w2"
# Each round dropped key.config/maxconn: its blocking call runs to its end
# (up to the wait) rather than being closed under the agent, and holds its
# connection until then.
[ "$c2" -le $((w2 + 3)) ] || lg_fail "$c2 connections for $w2 watches after reloads"
lg_consul_register web-2 web 9002 >/dev/null
lg_wait 10 "a.cfg still followed after reloads" grep -qx web-2 "$T/a.cfg"

# SIGTERM: gone in under a second.
start=$(date +%s%N)
kill -TERM "$LEGATE_PID"
for _ in $(seq 100); do lg_alive "$LEGATE_PID" || break; sleep 0.01; done
lg_alive "$LEGATE_PID" && lg_fail "legate still running 1 s after SIGTERM"
wait "$LEGATE_PID"; rc=$?
[ $rc = 0 ] || lg_fail "legate exited $rc on SIGTERM"
echo "# exited $(( ($(date +%s%N) - start) / 1000000 )) ms after SIGTERM"
