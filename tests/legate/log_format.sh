# The shapes of legate's and legate-init's log lines: text lines open with
# an RFC 3339 time, except on systemd's journal ($JOURNAL_STREAM names
# stderr), where they open with a "<N>" priority instead; -log-format json
# (legate-init: --log-format json) writes one JSON object per line with
# time, level, program, message, and the template or watch the line is
# about.  Nothing here needs a Consul agent: the address is a closed port.
. "$LEGATE_ROOT/tests/lib.sh"

dead=127.0.0.1:$(lg_ports 1)
printf 'static\n' > "$T/plain.mustache"
printf 'max {{key.config/maxconn}}\n' > "$T/kv.mustache"
time_re='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z '

# Text: every line of a -once run carries the time, then "legate: LEVEL: ".
"$LEGATE_BIN/legate" -consul-addr "$dead" -once -template "$T/plain.mustache:$T/plain.out" 2> "$T/text.log" ||
	lg_fail "-once failed: $(cat "$T/text.log")"
[ -s "$T/text.log" ] || lg_fail "no log lines"
bad=$(grep -Evc "${time_re}legate: (error|warn|info|debug|trace): " "$T/text.log") || true
[ "$bad" = 0 ] || lg_fail "$bad text line(s) without the time and shape: $(cat "$T/text.log")"
grep -Eq "${time_re}legate: info: $T/plain.out: installed" "$T/text.log" || lg_fail "no installed line: $(cat "$T/text.log")"
echo "# text: $(wc -l < "$T/text.log") lines, each with an RFC 3339 time"

# The journal: stderr is the stream JOURNAL_STREAM names, so no time and
# the syslog priority first.
: > "$T/journal.log"
js=$(stat -c '%d:%i' "$T/journal.log")
JOURNAL_STREAM=$js "$LEGATE_BIN/legate" -consul-addr "$dead" -once -template "$T/plain.mustache:$T/plain.out" \
	2>> "$T/journal.log" || lg_fail "-once failed under JOURNAL_STREAM"
grep -q '^<6>legate: info: ' "$T/journal.log" || lg_fail "no <6> info line on the journal: $(cat "$T/journal.log")"
grep -Eq "$time_re" "$T/journal.log" && lg_fail "a time on the journal: $(cat "$T/journal.log")"
# Another stream in JOURNAL_STREAM (the journal is stdout, say): times again.
JOURNAL_STREAM=1:1 "$LEGATE_BIN/legate" -consul-addr "$dead" -once -template "$T/plain.mustache:$T/plain.out" \
	2> "$T/other.log" || lg_fail "-once failed"
grep -Eq "${time_re}legate: info: " "$T/other.log" || lg_fail "no time when stderr is not the journal: $(cat "$T/other.log")"

# JSON: a template line with its field, and a watch that cannot reach the
# agent (its retry warning carries the watch).  A message with a quote,
# a backslash and a newline in a template's name stays one valid object.
odd="$T/odd\"na\\me
x.out"
lg_bg json "$LEGATE_BIN/legate" -consul-addr "$dead" -log-format json -wait 0s \
	-template "$T/plain.mustache:$T/plain-json.out" -template "$T/kv.mustache:$T/kv.out" \
	-template "$T/plain.mustache:$odd"
pid=$LG_LAST_PID
lg_wait 20 "a warning about the watch" grep -q '"watch":' "$T/json.log"
kill -TERM "$pid"
lg_wait 10 "legate to exit" sh -c "! kill -0 $pid 2>/dev/null"
python3 - "$T/json.log" "$T" <<'PY' || lg_fail "JSON lines: $(cat "$T/json.log")"
import json, re, sys
path, tmp = sys.argv[1], sys.argv[2]
objs = []
for n, line in enumerate(open(path, encoding="utf-8"), 1):
    o = json.loads(line)
    for k in ("time", "level", "program", "message"):
        assert isinstance(o.get(k), str), f"line {n}: no {k}: {line}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]), o["time"]
    assert o["level"] in ("error", "warn", "info", "debug", "trace"), o["level"]
    assert o["program"] == "legate", o["program"]
    objs.append(o)
inst = [o for o in objs if o.get("template") == tmp + "/plain-json.out" and o["message"].startswith("installed")]
assert inst, "no installed line with its template"
watch = [o for o in objs if o.get("watch") == "key.config/maxconn" and o["level"] == "warn"]
assert watch, "no warning with its watch"
assert any(o.get("template") == tmp + '/odd"na\\me\nx.out' for o in objs), "the odd name is not kept whole"
print(f"# json: {len(objs)} lines parsed; template and watch fields present")
PY

# legate-init: the same two shapes for its own lines.
printf '[program:x]\nautostart=maybe\n' > "$T/bad.conf"
"$LEGATE_BIN/legate-init" -t -c "$T/bad.conf" 2> "$T/init-text.log" && lg_fail "bad.conf accepted"
grep -Eq "${time_re}legate-init: error: .*bad.conf:2: " "$T/init-text.log" || lg_fail "legate-init text: $(cat "$T/init-text.log")"
"$LEGATE_BIN/legate-init" --log-format json -t -c "$T/bad.conf" 2> "$T/init-json.log" && lg_fail "bad.conf accepted"
LEGATE_LOG_FORMAT=json "$LEGATE_BIN/legate-init" -t -c "$T/bad.conf" 2>> "$T/init-json.log" && lg_fail "bad.conf accepted"
python3 - "$T/init-json.log" <<'PY' || lg_fail "legate-init JSON: $(cat "$T/init-json.log")"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(objs) >= 2, objs
for o in objs:
    assert o["program"] == "legate-init" and o["level"] == "error" and "bad.conf:2:" in o["message"], o
print(f"# legate-init json: {len(objs)} lines parsed")
PY
