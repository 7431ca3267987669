#!/usr/bin/env python3
# tests/init/listener.py: an event listener speaking supervisord's protocol,
# for the legate-init tests.  Appends "HEADER | PAYLOAD" for every event to
# the file named first; answers FAIL to the first event named second (if
# any), so that it comes again, and OK to everything else.
import sys

log = open(sys.argv[1], "a", buffering=1)
refuse = sys.argv[2] if len(sys.argv) > 2 else None
while True:
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        break
    headers = dict(word.split(":", 1) for word in line.split())
    payload = sys.stdin.read(int(headers["len"]))
    log.write("%s | %s\n" % (line.strip(), payload.replace("\n", "\\n")))
    answer = "OK"
    if headers["eventname"] == refuse:
        answer, refuse = "FAIL", None
    sys.stdout.write("RESULT %d\n%s" % (len(answer), answer))
    sys.stdout.flush()
