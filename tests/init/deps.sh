#!/usr/bin/env bash
# depends_on waits for readiness: ready_fd, ready_file, ready_tcp, startsecs
# and a oneshot that exits 0; a failing oneshot stops start-up with a clear
# error and its exit code, and its dependents never start.
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/init/init.bash"
PORT=$(lg_ports 1)


# Each dependency marks "<name>.ready" just before it signals readiness, so
# app can tell whether it was started too early.
cat > "$T/deps.conf" <<EOF
[supervisord]
nodaemon=true

[program:app]
command=sh -c 'for f in fd file tcp slow setup; do [ -e $T/\$f.ready ] || echo EARLY \$f >> $T/app; done; echo started >> $T/app; exec sleep 100'
depends_on=fd, file,tcp
	slow,setup
priority=1

[program:fd]
command=sh -c 'sleep 0.5; touch $T/fd.ready; echo ready >&5; exec sleep 100'
ready_fd=5
priority=50

[program:file]
command=sh -c 'sleep 0.5; touch $T/file.ready $T/file.flag; exec sleep 100'
ready_file=$T/file.flag
priority=50

[program:tcp]
command=python3 -c 'import socket, time; time.sleep(0.5); open("$T/tcp.ready", "w"); s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", $PORT)); s.listen(); time.sleep(100)'
ready_tcp=127.0.0.1:$PORT
priority=50

[program:slow]
command=sh -c 'touch $T/slow.ready; exec sleep 100'
startsecs=2
priority=50

[program:setup]
command=sh -c 'sleep 0.3; touch $T/setup.ready'
type=oneshot
priority=50
EOF
t0=$(date +%s%N)
start_init -S "$T/ctl.sock" -c "$T/deps.conf"
lg_wait 15 "app started" test -s "$T/app"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(cat "$T/app")" = started ] || lg_fail "app started too early: $(cat "$T/app")"
[ $ms -ge 2000 ] || lg_fail "app started after ${ms}ms, before slow's startsecs=2"
for p in fd file tcp slow; do
	grep -q "^[0-9TZ:.-]* \?legate-init: info: $p: ready (RUNNING)" "$T/init.log" || lg_fail "$p never ready"
done
grep -q '^[0-9TZ:.-]* \?legate-init: info: setup: oneshot finished (exit 0)' "$T/init.log" || lg_fail "no oneshot line"
# In the log, app starts after every "ready".
last_ready=$(grep -n 'ready (RUNNING)\|oneshot finished' "$T/init.log" | grep -v 'app:' | tail -1 | cut -d: -f1)
app_line=$(grep -n 'app: started' "$T/init.log" | cut -d: -f1)
[ "$app_line" -gt "$last_ready" ] || lg_fail "app started before its dependencies were ready"
stop_init TERM
[ "$RC" = 0 ] || lg_fail "exit code $RC after SIGTERM, want 0"

# --- a failing oneshot -------------------------------------------------------
rm -f "$T/app"
cat > "$T/fail.conf" <<EOF
[program:bystander]
command=$REC $T/events bystander -r 3
priority=1
ready_fd=3

[program:migrate]
command=sh -c 'echo migration failed >&2; exit 9'
type=oneshot
priority=2
on_fatal=exit

[program:app]
command=sh -c 'echo started >> $T/app; exec sleep 100'
depends_on=migrate
EOF
start_init -S "$T/ctl.sock" -c "$T/fail.conf"
wait_init
rc=$RC
[ "$rc" = 9 ] || lg_fail "exit code $rc, want the oneshot's 9"
[ ! -e "$T/app" ] || lg_fail "app started although migrate failed"
grep -q '^[0-9TZ:.-]* \?legate-init: error: migrate: oneshot failed (exit 9)' "$T/init.log" || lg_fail "no clear error"
grep -q '^migration failed' "$T/init.log" || lg_fail "the oneshot's stderr did not reach ours"
grep -qx 'bystander TERM' "$T/events" || lg_fail "bystander not stopped"
echo ok
