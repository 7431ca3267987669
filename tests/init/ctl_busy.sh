#!/usr/bin/env bash
# One local client cannot lock the control socket: a client that holds
# every connection open without a word, and opens a new one as soon as one
# is dropped, does not keep `legate-init ctl` from being answered; a
# connection that sends half a request is dropped after a while.
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/init/init.bash"

printf '[program:web]\ncommand=sleep 100\nstartsecs=0\n' > "$T/busy.conf"
start_init -S "$T/ctl.sock" -c "$T/busy.conf"
lg_wait 5 "web running" sh -c "\"$INIT\" ctl -s '$T/ctl.sock' status | grep -q RUNNING"

# Clients run inside legate-init's PID namespace, as `docker exec` runs
# them, so that it sees their pids.  (There /proc is still the outer one,
# where LeakSanitizer cannot find a client of the sanitizer build: the
# clients' leaks are checked by the other tests.)
inside() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 nsenter -t "$INIT_PID" -p -- "$@"; }

# The hog: 40 connections (more than legate-init serves), each reopened
# within 50 ms of being closed, for as long as it runs.
inside python3 - "$T/ctl.sock" "$T/hog.up" > "$T/hog.log" 2>&1 <<'EOF' &
import socket, sys, time, select
path, up = sys.argv[1], sys.argv[2]
conns = []
def fill():
    while len(conns) < 40:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            s.close()
            return
        conns.append(s)
fill()
open(up, "w").close()
while True:
    r, _, _ = select.select(conns, [], [], 0.05)
    for s in r:
        conns.remove(s)
        s.close()
    fill()
EOF
HOG=$!
LG_PIDS+=($HOG)
lg_wait 5 "the hog holds its connections" test -e "$T/hog.up"
sleep 1
ok=0
for i in $(seq 20); do
	if out=$(inside timeout 5 "$INIT" ctl -s "$T/ctl.sock" status web 2>&1); then
		ok=$((ok + 1))
	else
		echo "# attempt $i: $out"
	fi
	sleep 0.2
done
[ $ok = 20 ] || lg_fail "ctl answered $ok of 20 times while a client held the socket"
kill "$HOG"
wait "$HOG" 2>/dev/null || true

# Half a request, then silence: dropped, the connection closed.
python3 - "$T/ctl.sock" > "$T/half" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"stat")
start = time.time()
data = s.recv(100)
print("closed after %.1f s, %d bytes" % (time.time() - start, len(data)))
EOF
HALF=$!
LG_PIDS+=($HALF)
lg_wait 10 "the half request dropped" grep -q closed "$T/half"
stop_init TERM
echo ok
