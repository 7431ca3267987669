#!/usr/bin/env bash
# legate-init -c as real PID 1: programs start in priority and dependency
# order; SIGHUP sends each its reload_signal without restarting anything;
# SIGTERM stops them in reverse start order, each with its stopsignal, a
# program that ignores SIGTERM is killed after stopwaitsecs, and the exit
# code is 0, as supervisord's.  Equal priorities start in name order.
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/init/init.bash"


cat > "$T/sup.conf" <<EOF
[supervisord]
nodaemon=true

[program:d]
command=$REC $EV d -x QUIT -r 3
depends_on=a
ready_fd=3
stopsignal=QUIT
reload_signal=USR1

[program:c]
command=$REC $EV c -i TERM -x USR1 -r 3
priority=3
ready_fd=3
stopwaitsecs=1

[program:b]
command=$REC $EV b -x INT -r 3
priority=2
ready_fd=3
stopsignal=INT
reload_signal=USR2

[program:a]
command=$REC $EV a -r 3
priority=1
ready_fd=3
EOF

start_init -S "$T/ctl.sock" -c "$T/sup.conf"
lg_wait 10 "four programs up" sh -c "[ \$(grep -c start '$EV') = 4 ]"
got=$(grep start "$EV" | cut -d' ' -f1 | tr -d '\n')
# d depends on a; with priority 999 it comes after c.
[ "$got" = abcd ] || lg_fail "start order $got, want abcd"

kill -HUP "$INIT_PID"
lg_wait 5 "reload signals" sh -c "[ \$(grep -vc start '$EV') = 4 ]"
for want in "a HUP" "b USR2" "c HUP" "d USR1"; do
	grep -qx "$want" "$EV" || lg_fail "after SIGHUP no \"$want\" in: $(cat "$EV")"
done
[ "$(grep -c start "$EV")" = 4 ] || lg_fail "SIGHUP restarted something: $(cat "$EV")"
: > "$EV"

t0=$(date +%s%N)
stop_init TERM
t1=$(date +%s%N)
[ "$RC" = 0 ] || lg_fail "exit code $RC after SIGTERM, want 0"
got=$(tr '\n' ',' < "$EV")
[ "$got" = "d QUIT,b INT,a TERM," ] || lg_fail "stop records \"$got\", want d QUIT, b INT, a TERM"
grep -q 'c: still running 1s after SIGTERM; sending KILL' "$T/init.log" ||
	lg_fail "c was not killed after stopwaitsecs"
order=$(sed -n 's/^[0-9TZ:.-]* \?legate-init: info: \([a-d]\): stopping.*/\1/p' "$T/init.log" | tr -d '\n')
[ "$order" = dcba ] || lg_fail "stop order $order, want dcba"
ms=$(( (t1 - t0) / 1000000 ))
[ $ms -ge 1000 ] || lg_fail "shutdown took ${ms}ms, c's stopwaitsecs=1 not honoured"
[ ! -e "$T/ctl.sock" ] || lg_fail "control socket left behind"

# Equal priorities start in name order, whatever the file's order
# (supervisord sorts its programs by priority, then name).
cat > "$T/names.conf" <<EOF2
[program:zeta]
command=sleep 100
[program:alpha]
command=sleep 100
[program:mid]
command=sleep 100
EOF2
start_init -S "$T/ctl.sock" -c "$T/names.conf"
lg_wait 10 "three started" sh -c "[ \$(grep -c ': started, pid' '$T/init.log') = 3 ]"
got=$(sed -n 's/^[0-9TZ:.-]* \?legate-init: info: \([a-z]*\): started, pid.*/\1/p' "$T/init.log" | tr '\n' ' ')
[ "$got" = "alpha mid zeta " ] || lg_fail "equal priorities started as \"$got\", want alpha mid zeta"
stop_init
echo ok
