#!/usr/bin/env bash
# legate-init's supervisord.conf reader at run time (the verdicts of -t on
# good and bad files are the cases in tests/init/conf-cases/): expansion,
# environment ([supervisord]'s and the program's), directory, user and
# umask reach the programs; a file with no programs runs idle; the socket
# comes from [unix_http_server] file= with its chmod, where a supervisorctl
# link finds it; a typical haproxy + consul-template supervisord.conf runs
# unchanged and exits 0 on SIGTERM, as supervisord does.
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/init/init.bash"

# A file that is not there: exit 2 and its name, no namespace needed.
rc=0
"$INIT" -t -c "$T/missing.conf" 2> "$T/out" || rc=$?
[ $rc = 2 ] || lg_fail "missing file: exit $rc"
lg_untime < "$T/out" | lg_grepq -xF "legate-init: error: $T/missing.conf: cannot read: No such file or directory" ||
	lg_fail "missing file: $(cat "$T/out")"

# Expansion, environment, directory, user, umask.
mkdir "$T/work dir"
cat > "$T/good.conf" <<EOF
[supervisord]
nodaemon = true   ; inline comment
environment=GLOBAL=everyone,B=overridden

[program:show]
command = sh -c 'echo "%(ENV_GREETING)s %(program_name)s %%d \$A|\$B|\$C|\$GLOBAL|\$SUPERVISOR_PROCESS_NAME|\$SUPERVISOR_SERVER_URL" > "$T/show.out";
	pwd >> "$T/show.out"; umask >> "$T/show.out"; exec sleep 100'
environment=A="x,y",B=two, C='it''s'
directory=$T/work dir
umask=027
startsecs=0

[program:who]
command=sh -c 'echo "\$(id -u):\$(id -g):\$(id -G)"'
user=nobody
log_prefix=true
startsecs=0
autorestart=false
EOF
GREETING=hello "$INIT" -t -c "$T/good.conf" > "$T/out" 2>&1 || lg_fail "-t: $(cat "$T/out")"
start_init_env GREETING=hello -S "$T/ctl.sock" -c "$T/good.conf"
lg_wait 5 "show ran" sh -c "[ \$(wc -l < '$T/show.out' 2>/dev/null) = 3 ]"
want="hello show %d x,y|two|its|everyone|show|unix://$T/ctl.sock"
[ "$(head -1 "$T/show.out")" = "$want" ] || lg_fail "expansion: \"$(head -1 "$T/show.out")\", want \"$want\""
[ "$(sed -n 2p "$T/show.out")" = "$T/work dir" ] || lg_fail "directory: $(sed -n 2p "$T/show.out")"
[ "$(sed -n 3p "$T/show.out")" = 0027 ] || lg_fail "umask: $(sed -n 3p "$T/show.out")"
nobody=$(awk -F: '$1 == "nobody" {print $3 ":" $4}' /etc/passwd)
lg_wait 5 "who ran" grep -q '^who | ' "$T/init.log"
grep -qx "who | $nobody:${nobody#*:}" "$T/init.log" || lg_fail "user=nobody: $(grep '^who' "$T/init.log")"
lg_wait 5 "who exited" grep -q 'who: exited (exit 0)' "$T/init.log"
grep -q 'who: .*FATAL\|who: exited too quickly' "$T/init.log" && lg_fail "a quick exit with startsecs=0 counted as a failure"
stop_init QUIT
[ $RC = 0 ] || lg_fail "exit code $RC after SIGQUIT, want 0"

# No programs at all: legate-init runs idle and answers on its socket, the
# one [unix_http_server] names, with its mode; supervisorctl finds it
# through the file.
cat > "$T/idle.conf" <<EOF
[unix_http_server]
file=$T/idle.sock
chmod=0770

[supervisord]
nodaemon=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$T/idle.sock
EOF
start_init -c "$T/idle.conf"
lg_wait 5 "the socket" test -S "$T/idle.sock"
[ "$(stat -c %a "$T/idle.sock")" = 770 ] || lg_fail "socket mode $(stat -c %a "$T/idle.sock"), want 770"
ln -s "$INIT" "$T/supervisorctl"
rc=0
"$T/supervisorctl" -c "$T/idle.conf" status > "$T/out" 2>&1 || rc=$?
[ $rc = 0 ] && [ ! -s "$T/out" ] || lg_fail "status with no programs: exit $rc: $(cat "$T/out")"
[ "$("$T/supervisorctl" -c "$T/idle.conf" pid)" = 1 ] || lg_fail "pid is not 1"
lg_alive "$INIT_PID" || lg_fail "legate-init with no programs exited"
stop_init TERM
[ $RC = 0 ] || lg_fail "exit code $RC, want 0"
[ ! -e "$T/idle.sock" ] || lg_fail "socket left behind"

# A supervisord.conf as people write it for haproxy + consul-template.
PORT=$(lg_ports 1)
cat > "$T/haproxy.cfg" <<EOF
global
	pidfile $T/haproxy.pid
defaults
	mode http
	timeout connect 1s
	timeout client 5s
	timeout server 5s
frontend fe
	bind 127.0.0.1:$PORT
	http-request return status 200 content-type text/plain string ok
EOF
cat > "$T/supervisord.conf" <<EOF
[supervisord]
nodaemon=true
user=root
logfile=/dev/null
logfile_maxbytes=0
pidfile=$T/supervisord.pid

[unix_http_server]
file=$T/supervisor.sock
chmod=0700

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$T/supervisor.sock

[program:haproxy]
command=haproxy -W -db -f $T/haproxy.cfg
autostart=true
autorestart=true
priority=10
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
stderr_logfile=/dev/stderr
stderr_logfile_maxbytes=0
stopsignal=USR1
stopwaitsecs=2

[program:consul-template]
command=sh -c 'exec sleep 100' -template "$T/haproxy.ctmpl:$T/haproxy.cfg:supervisorctl signal HUP haproxy"
autostart=true
autorestart=true
priority=20
startsecs=1
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
redirect_stderr=true
EOF
start_init -c "$T/supervisord.conf"
lg_wait 10 "both running" sh -c "\"$T/supervisorctl\" -c '$T/supervisord.conf' status | grep -c RUNNING | grep -qx 2"
curl -sf "http://127.0.0.1:$PORT/" | lg_grepq -x ok || lg_fail "haproxy does not answer"
"$T/supervisorctl" -c "$T/supervisord.conf" signal HUP haproxy > "$T/out" || lg_fail "signal HUP haproxy: $(cat "$T/out")"
[ "$(cat "$T/out")" = "haproxy: signalled" ] || lg_fail "signal: $(cat "$T/out")"
stop_init TERM
[ $RC = 0 ] || lg_fail "exit code $RC after SIGTERM, want 0: $(cat "$T/init.log")"
grep -q 'haproxy: stopped' "$T/init.log" || lg_fail "haproxy not stopped"
echo ok
