#!/usr/bin/env bash
# [eventlistener:NAME] with supervisord's protocol: a listener gets
# SUPERVISOR_STATE_CHANGE_RUNNING, then PROCESS_STATE_* for every change of
# every program (with supervisord's payload fields), TICK_5 on the wall
# clock's multiples of 5 s, and SUPERVISOR_STATE_CHANGE_STOPPING at
# shutdown, each in one envelope (ver, server, serial, pool, poolserial,
# eventname, len); an event it answers with FAIL comes again; a listener
# that never says READY loses its oldest events, with an error, past
# buffer_size; listeners stop last.
# legate-test: timeout=60
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/init/init.bash"
LOG=$T/listener.log

cat > "$T/events.conf" <<EOF
[supervisord]
nodaemon=true
identifier=box

[eventlistener:watch]
command=python3 -u $LEGATE_ROOT/tests/init/listener.py $LOG PROCESS_STATE_FATAL
events=PROCESS_STATE,SUPERVISOR_STATE_CHANGE,TICK_5
; room for every event until python has started, however slowly
buffer_size=100
startsecs=0

[eventlistener:mute]
command=sleep 1000
events=PROCESS_STATE
buffer_size=2
startsecs=0

[program:web]
command=sleep 1000
startsecs=0

[program:crash]
command=sh -c 'exit 3'
startsecs=1
startretries=0
EOF
start_init -S "$T/ctl.sock" -c "$T/events.conf"
lg_wait 10 "crash FATAL, sent twice" sh -c "[ \$(grep -c 'eventname:PROCESS_STATE_FATAL' '$LOG') = 2 ]"
# The envelope.
head -1 "$LOG" | grep -Eq '^ver:3\.0 server:box serial:[0-9]+ pool:watch poolserial:[0-9]+ eventname:SUPERVISOR_STATE_CHANGE_RUNNING len:0 \| $' ||
	lg_fail "first event: $(head -1 "$LOG")"
while read -r hdr; do
	len=${hdr##*len:}
	len=${len%% *}
	payload=${hdr#* |}
	payload=${payload# }
	[ "${#payload}" = "$len" ] || lg_fail "len:$len for a payload of ${#payload}: $hdr"
done < "$LOG"
# The payloads supervisord sends.
pl() { grep "eventname:$1 " "$LOG" | grep "processname:$2 " | head -1 | sed 's/.* | //'; }
[ "$(pl PROCESS_STATE_STARTING web)" = "processname:web groupname:web from_state:STOPPED tries:0" ] ||
	lg_fail "STARTING: $(pl PROCESS_STATE_STARTING web)"
pid=$(ctl pid web)
[ "$(pl PROCESS_STATE_RUNNING web)" = "processname:web groupname:web from_state:STARTING pid:$pid" ] ||
	lg_fail "RUNNING: $(pl PROCESS_STATE_RUNNING web)"
[ "$(pl PROCESS_STATE_BACKOFF crash)" = "processname:crash groupname:crash from_state:STARTING tries:1" ] ||
	lg_fail "BACKOFF: $(pl PROCESS_STATE_BACKOFF crash)"
[ "$(pl PROCESS_STATE_FATAL crash)" = "processname:crash groupname:crash from_state:BACKOFF" ] ||
	lg_fail "FATAL: $(pl PROCESS_STATE_FATAL crash)"
# The refused event came again with the same serial.
serials=$(grep 'eventname:PROCESS_STATE_FATAL' "$LOG" | sed 's/.* serial:\([0-9]*\) .*/\1/' | uniq | wc -l)
[ "$serials" = 1 ] || lg_fail "the refused event came back as another: $(grep FATAL "$LOG")"
# A stop.
ctl stop web > /dev/null
lg_wait 5 "STOPPED" grep -q "eventname:PROCESS_STATE_STOPPED .*processname:web " "$LOG"
[ "$(pl PROCESS_STATE_STOPPING web)" = "processname:web groupname:web from_state:RUNNING pid:$pid" ] ||
	lg_fail "STOPPING: $(pl PROCESS_STATE_STOPPING web)"
[ "$(pl PROCESS_STATE_STOPPED web)" = "processname:web groupname:web from_state:STOPPING pid:$pid" ] ||
	lg_fail "STOPPED: $(pl PROCESS_STATE_STOPPED web)"
# Serial numbers only grow (the refused one repeats); pool serials count
# this pool's events.
sed 's/.* serial:\([0-9]*\) .*/\1/' "$LOG" | uniq | sort -c -n || lg_fail "serials out of order: $(cat "$LOG")"
# A tick on a multiple of 5 s.
lg_wait 8 "TICK_5" grep -q 'eventname:TICK_5 ' "$LOG"
when=$(grep 'eventname:TICK_5 ' "$LOG" | head -1 | sed 's/.* | when://')
[ $((when % 5)) = 0 ] || lg_fail "TICK_5 when:$when"
# The listener that never reads keeps only the newest two.
grep -q 'mute: event buffer overflowed, discarding event' "$T/init.log" || lg_fail "no overflow error for mute"
stop_init TERM
[ "$RC" = 0 ] || lg_fail "exit $RC"
grep -q 'eventname:SUPERVISOR_STATE_CHANGE_STOPPING' "$LOG" || lg_fail "no STOPPING event"
last=$(sed -n 's/^[0-9TZ:.-]* \?legate-init: info: \([a-z]*\): stopping.*/\1/p' "$T/init.log" | tail -2 | tr '\n' ' ')
case "$last" in *watch*) ;; *) lg_fail "listeners not stopped last: $last" ;; esac
echo ok
