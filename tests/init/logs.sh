#!/usr/bin/env bash
# Log files: with *_logfile_maxbytes a program's output goes through
# legate-init into its file, which is rotated past that size into FILE.1
# .. FILE.N (*_logfile_backups), as supervisord rotates; with maxbytes=0
# the program writes the file itself; with no backups the file is only
# emptied; ctl clear empties a file and removes its copies; tail reads it.
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/init/init.bash"

# 300 lines of 50 bytes: 15000 bytes through a 6 KB limit, which legate-init
# (as supervisord) checks after each write of up to 4 KB: two rotations at
# most, so the three files keep everything.
lines='i=0; while [ $i -lt 300 ]; do printf "line %03d %040d\n" $i 0; i=$((i+1)); done'
cat > "$T/logs.conf" <<EOF
[program:rot]
command=sh -c '$lines; exec sleep 100'
stdout_logfile=$T/rot.log
stdout_logfile_maxbytes=6KB
stdout_logfile_backups=2
stderr_logfile=$T/rot.err
stderr_logfile_maxbytes=0
startsecs=0

[program:trunc]
command=sh -c '$lines; exec sleep 100'
stdout_logfile=$T/trunc.log
stdout_logfile_maxbytes=2KB
stdout_logfile_backups=0
redirect_stderr=true
startsecs=0

[program:direct]
command=sh -c '$lines; echo to-stderr >&2; exec sleep 100'
stdout_logfile=$T/direct.log
stdout_logfile_maxbytes=0
stderr_logfile=$T/direct.log
stderr_logfile_maxbytes=0
startsecs=0
EOF
start_init -S "$T/ctl.sock" -c "$T/logs.conf"
lg_wait 10 "all output written" sh -c "[ \$(cat '$T'/rot.log* | wc -c) = 15000 ] && grep -q to-stderr '$T/direct.log'"

# Rotated: the newest output in rot.log, two copies, no third; nothing lost
# between the three of them, in order.
[ -s "$T/rot.log.1" ] || lg_fail "no rotated copy: $(ls "$T")"
[ ! -e "$T/rot.log.3" ] || lg_fail "a third copy with backups=2"
for f in rot.log rot.log.1 rot.log.2; do
	[ -e "$T/$f" ] || continue
	size=$(stat -c %s "$T/$f")
	[ "$size" -lt $((6144 + 4096)) ] || lg_fail "$f holds $size bytes"
	[ "$f" = rot.log ] || [ "$size" -ge 6144 ] || lg_fail "$f was rotated at $size bytes"
done
cat "$T/rot.log.2" "$T/rot.log.1" "$T/rot.log" 2>/dev/null > "$T/kept" || true   # one rotation or two
[ "$(wc -l < "$T/kept")" = 300 ] || lg_fail "lines missing between the copies: $(wc -l < "$T/kept")"
[ "$(head -1 "$T/kept" | cut -c1-8)$(tail -1 "$T/kept" | cut -c1-8)" = "line 000line 299" ] ||
	lg_fail "copies out of order"
grep -vq '^line [0-9]\{3\} 0\{40\}$' "$T/kept" && lg_fail "a line was cut or mixed"
[ ! -s "$T/rot.err" ] || lg_fail "rot.err: $(cat "$T/rot.err")"

# No backups: emptied past the limit, never copied.
[ ! -e "$T/trunc.log.1" ] || lg_fail "trunc.log.1 with backups=0"
[ "$(stat -c %s "$T/trunc.log")" -lt $((2048 + 4096)) ] || lg_fail "trunc.log was not emptied"

# maxbytes=0: the program's own writes, both streams in one file.
[ "$(grep -c '^line' "$T/direct.log")" = 300 ] || lg_fail "direct.log: $(grep -c '^line' "$T/direct.log") lines"

# tail reads the newest bytes; clear empties the file and drops the copies.
printf 'line 300 %040d\n' 0 >> "$T/rot.log"
[ "$(ctl tail -50 rot | head -1)" = "line 300 $(printf '%040d' 0)" ] || lg_fail "tail: $(ctl tail -50 rot)"
[ "$(ctl clear rot)" = "rot: cleared" ] || lg_fail "clear"
[ ! -s "$T/rot.log" ] && [ ! -e "$T/rot.log.1" ] && [ ! -e "$T/rot.log.2" ] || lg_fail "clear left: $(ls -l "$T")"
# The program goes on writing into the emptied file.
ctl restart rot > /dev/null
lg_wait 5 "written again" sh -c "[ \$(cat '$T'/rot.log* | wc -c) = 15000 ]"
stop_init TERM
echo ok
