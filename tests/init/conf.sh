#!/usr/bin/env bash
# legate-init's supervisord.conf reader: malformed files give FILE:LINE
# errors and start nothing; unknown keys warn with FILE:LINE; expansion,
# comments, continuation lines, environment and directory work; a typical
# haproxy + consul-template supervisord.conf runs unchanged.
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
INIT=$LEGATE_BIN/legate-init

# bad LINE MESSAGE: the conf on stdin, after a valid first program, must
# fail at LINE (counted in the whole file) with MESSAGE and start nothing.
n=0
bad() {
	local line=$1 msg=$2 f rc=0
	n=$((n + 1))
	f=$T/bad$n.conf
	{
		printf '[program:marker]\ncommand=touch %s/started\n\n' "$T"
		cat
	} > "$f"
	unshare --pid --fork --mount-proc "$INIT" -s "$T/ctl.sock" -c "$f" > "$T/out" 2>&1 || rc=$?
	[ $rc = 2 ] || lg_fail "case $n: exit $rc, want 2: $(cat "$T/out")"
	grep -qxF "legate-init: error: $f:$line: $msg" "$T/out" ||
		lg_fail "case $n: want \"$f:$line: $msg\", got: $(cat "$T/out")"
	[ ! -e "$T/started" ] || lg_fail "case $n: a program started"
}

bad 5 'autostart: "maybe" is not a boolean (true or false)' <<'EOF'
[program:a]
autostart = maybe
command=true
EOF
bad 7 'startsecs: "1s" is not an integer from 0 to 86400' <<'EOF'
[program:a]
command=true

startsecs=1s
EOF
bad 5 'stopsignal: "FOO" is not a signal name' <<'EOF'
[program:a]
stopsignal=FOO
EOF
bad 4 '[program:a] has no command' <<'EOF'
[program:a]
priority=3
EOF
bad 6 'depends_on: no program named "db"' <<'EOF'
[program:a]
command=true
depends_on=marker,db
EOF
bad 9 'depends_on: b and a depend on each other (a cycle)' <<'EOF'
[program:a]
command=true
depends_on=b
[program:b]
command=true
depends_on=a
EOF
bad 5 "command: unterminated quote in \"sh -c 'echo\"" <<'EOF'
[program:a]
command=sh -c 'echo
EOF
bad 5 'expected KEY=VALUE, got "this is not a key"' <<'EOF'
[program:a]
this is not a key
EOF
bad 6 'command is set twice in [program:a] (first at line 5)' <<'EOF'
[program:a]
command=true
command=false
EOF
bad 5 'autorestart: "sometimes" is not true, false or unexpected' <<'EOF'
[program:a]
autorestart=sometimes
command=true
EOF
bad 5 'exitcodes: "0,x" is not a list of codes 0-255' <<'EOF'
[program:a]
exitcodes=0,x
command=true
EOF
bad 5 '%(ENV_LEGATE_NOT_SET)s: environment variable LEGATE_NOT_SET is not set' <<'EOF'
[program:a]
command=echo %(ENV_LEGATE_NOT_SET)s
EOF
bad 6 'ready_tcp: "db.example" is not an IP address or localhost' <<'EOF'
[program:a]
command=true
ready_tcp=db.example:5432
EOF
bad 5 'type: "daemon" is not oneshot or longrun' <<'EOF'
[program:a]
type=daemon
command=true
EOF
bad 5 'user: no user "nosuchuser-legate" in /etc/passwd' <<'EOF'
[program:a]
user=nosuchuser-legate
command=true
EOF
bad 5 'ready_fd: "1" is not an integer from 3 to 1023' <<'EOF'
[program:a]
ready_fd=1
command=true
EOF
bad 4 'section header without '"']'" <<'EOF'
[program:a
command=true
EOF
bad 4 'section [program:marker] appears twice (first at line 1)' <<'EOF'
[program:marker]
command=true
EOF
bad 5 'on_fatal: "ignore" is not exit or keep' <<'EOF'
[program:a]
on_fatal=ignore
command=true
EOF
rc=0
"$INIT" -c "$T/missing.conf" 2> "$T/out" || rc=$?
[ $rc = 2 ] || lg_fail "missing file: exit $rc"
grep -qxF "legate-init: error: $T/missing.conf: cannot read: No such file or directory" "$T/out" ||
	lg_fail "missing file: $(cat "$T/out")"
printf 'command=true\n' > "$T/nosec.conf"
rc=0
"$INIT" -c "$T/nosec.conf" 2> "$T/out" || rc=$?
grep -qxF "legate-init: error: $T/nosec.conf:1: key outside any section (a [section] header must come first)" "$T/out" ||
	lg_fail "key outside section: $(cat "$T/out")"

# Expansion, comments, continuation lines, environment, directory; unknown
# keys and sections warn with FILE:LINE and are otherwise ignored.
mkdir "$T/work dir"
cat > "$T/good.conf" <<EOF
; a comment
# another comment
[supervisord]
nodaemon = true   ; inline comment
logfile=/dev/null

[unix_http_server]
file=/var/run/supervisor.sock

[program:show]
command = sh -c 'echo "%(ENV_GREETING)s %(program_name)s %%d \$A|\$B|\$C|\$SUPERVISOR_PROCESS_NAME" > "$T/show.out";
	pwd >> "$T/show.out"; exec sleep 100'
environment=A="x,y",B=two, C='it''s'
directory=$T/work dir
startsecs=0
colour=blue

[program:who]
command=sh -c 'echo "\$(id -u):\$(id -g):\$(id -G)"'
user=nobody
log_prefix=true
startsecs=0
autorestart=false
EOF
GREETING=hello "$INIT" -t -c "$T/good.conf" > "$T/out" 2>&1 || lg_fail "-t: $(cat "$T/out")"
grep -qxF "legate-init: warn: $T/good.conf:5: logfile in [supervisord] is not used by legate-init, ignored" "$T/out" ||
	lg_fail "no warning for logfile: $(cat "$T/out")"
grep -qxF "legate-init: warn: $T/good.conf:7: section [unix_http_server] is not used by legate-init, ignored" "$T/out" ||
	lg_fail "no warning for the section: $(cat "$T/out")"
grep -qxF "legate-init: warn: $T/good.conf:16: unknown key colour in [program:show], ignored" "$T/out" ||
	lg_fail "no warning for colour: $(cat "$T/out")"
grep -q "2 programs, configuration ok" "$T/out" || lg_fail "-t: $(cat "$T/out")"

GREETING=hello unshare --pid --fork --mount-proc --kill-child "$INIT" -s "$T/ctl.sock" -c "$T/good.conf" > "$T/init.log" 2>&1 &
NS=$!
LG_PIDS+=($NS)
LG_LOGS+=("$T/init.log")
lg_wait 5 "show ran" sh -c "[ \$(wc -l < '$T/show.out' 2>/dev/null) = 2 ]"
want="hello show %d x,y|two|its|show"
[ "$(head -1 "$T/show.out")" = "$want" ] || lg_fail "expansion: \"$(head -1 "$T/show.out")\", want \"$want\""
[ "$(tail -1 "$T/show.out")" = "$T/work dir" ] || lg_fail "directory: $(tail -1 "$T/show.out")"
nobody=$(awk -F: '$1 == "nobody" {print $3 ":" $4}' /etc/passwd)
lg_wait 5 "who ran" grep -q '^who | ' "$T/init.log"
grep -qx "who | $nobody:${nobody#*:}" "$T/init.log" || lg_fail "user=nobody: $(grep '^who' "$T/init.log")"
lg_wait 5 "who exited" grep -q 'who: exited (exit 0)' "$T/init.log"
grep -q 'who: .*FATAL\|who: exited too quickly' "$T/init.log" && lg_fail "a quick exit with startsecs=0 counted as a failure"
kill -QUIT "$(pgrep -P $NS)"
rc=0
wait $NS || rc=$?
[ $rc = 131 ] || lg_fail "exit code $rc after SIGQUIT, want 131"

# [include] files= reads more files, errors name the included file.
mkdir -p "$T/inc/conf.d" "$T/inc/bad.d"
mkdir -p "$T/inc/more"
printf '[supervisord]\nnodaemon=true\n\n[include]\nfiles = conf.d/*.conf missing/*.ini\n\tmore/[a-b]?.ini\n' > "$T/inc/main.conf"
printf '[program:one]\ncommand=true\n' > "$T/inc/conf.d/1.conf"
printf '; two\n[program:two]\ncommand=true\ndepends_on=one\n' > "$T/inc/conf.d/2.conf"
printf '[program:three]\ncommand=true\n' > "$T/inc/more/ax.ini"
# Not matched: a hidden file, a name outside [a-b], one character too many.
for f in conf.d/.hidden.conf more/cx.ini more/abc.ini conf.d/1.conf.bak; do
	printf 'broken\n' > "$T/inc/$f"
done
"$INIT" -t -c "$T/inc/main.conf" > "$T/out" 2>&1 || lg_fail "include: $(cat "$T/out")"
grep -q "3 programs, configuration ok" "$T/out" || lg_fail "include: $(cat "$T/out")"
grep -qF "legate-init: warn: $T/inc/main.conf:5: [include] no file matches $T/inc/missing/*.ini" "$T/out" ||
	lg_fail "include: no warning for the missing pattern: $(cat "$T/out")"
printf '[program:three]\ncommand=true\nautostart=maybe\n' > "$T/inc/bad.d/3.conf"
printf '[include]\nfiles=%s/inc/bad.d/*.conf\n' "$T" > "$T/inc/bad.conf"
rc=0
"$INIT" -t -c "$T/inc/bad.conf" > "$T/out" 2>&1 || rc=$?
[ $rc = 2 ] || lg_fail "bad include: exit $rc"
grep -qxF "legate-init: error: $T/inc/bad.d/3.conf:3: autostart: \"maybe\" is not a boolean (true or false)" "$T/out" ||
	lg_fail "bad include: $(cat "$T/out")"

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
command=sh -c 'exec sleep 100' -template "$T/haproxy.ctmpl:$T/haproxy.cfg:kill -USR2 \$(cat $T/haproxy.pid)"
autostart=true
autorestart=true
priority=20
startsecs=1
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
redirect_stderr=true
EOF
unshare --pid --fork --mount-proc --kill-child "$INIT" -s "$T/ctl.sock" -c "$T/supervisord.conf" > "$T/init2.log" 2>&1 &
NS=$!
LG_PIDS+=($NS)
LG_LOGS+=("$T/init2.log")
lg_wait 10 "both running" sh -c "\"$INIT\" ctl -s '$T/ctl.sock' status | grep -c RUNNING | grep -qx 2"
curl -sf "http://127.0.0.1:$PORT/" | grep -qx ok || lg_fail "haproxy does not answer"
kill -TERM "$(pgrep -P $NS)"
rc=0
wait $NS || rc=$?
[ $rc = 143 ] || lg_fail "exit code $rc, want 143: $(cat "$T/init2.log")"
grep -q 'haproxy: stopped' "$T/init2.log" || lg_fail "haproxy not stopped"
echo ok
