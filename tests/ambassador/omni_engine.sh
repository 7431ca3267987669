# Omni mode against a stand-in for the Docker engine (a small HTTP server
# on a unix socket, in Python, below): the events stream is
# dropped after one event and must be resumed with "since" set to that
# event's time; a container that starts on the resumed stream gets its
# route; routing by source address and port, end to end on loopback (the
# stand-in's container has the address 127.0.0.1, no iptables); its "die"
# event takes the route away and the port rejects at once.  Needs no
# Docker engine.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

command -v python3 > /dev/null || lg_skip "no python3 (the stand-in engine)"

lg_start_nginx alpha
A=$NGINX_PORT
lg_start_nginx beta
B=$NGINX_PORT
L=$(lg_ports 1)

# The stand-in: GET /containers/json (none at first), /containers/ID/json,
# and /events: the first stream sends container 1's start and ends (its
# time goes to event.1); the second records its since (since.2), sends
# container 2's start, and container 1's die once die.1 exists.
cat > "$T/engine.py" <<'PY'
import json, os, socketserver, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler

sock, tdir, listen, a, b = sys.argv[1:6]
ID1, ID2 = "1" * 64, "2" * 64
T1 = 1700000000123456789
containers = {
    ID1: {"ip": "127.0.0.1", "env": ["BACKEND_%s=127.0.0.1:%s" % (listen, a)]},
    ID2: {"ip": "10.9.9.2", "env": ["BACKEND_6379=127.0.0.1:%s" % b]},
}
streams = []

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def reply(self, obj, status=200):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def event(self, status, cid, tn):
        ev = {"status": status, "id": cid, "Type": "container", "time": tn // 10**9, "timeNano": tn}
        self.wfile.write((json.dumps(ev) + "\n").encode())
        self.wfile.flush()

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if u.path == "/containers/json":
            return self.reply([])
        if u.path.startswith("/containers/") and u.path.endswith("/json"):
            cid = u.path.split("/")[2]
            c = containers.get(cid)
            if not c:
                return self.reply({"message": "no such container"}, 404)
            return self.reply({"Id": cid, "State": {"Running": True}, "Config": {"Env": c["env"]},
                               "NetworkSettings": {"Networks": {"bridge": {"IPAddress": c["ip"]}}}})
        if u.path == "/events":
            since = urllib.parse.parse_qs(u.query).get("since", [""])[0]
            streams.append(since)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            if len(streams) == 1:
                self.event("start", ID1, T1)
                with open(os.path.join(tdir, "event.1"), "w") as f:
                    f.write("%d.%09d" % (T1 // 10**9, T1 % 10**9))
                return
            with open(os.path.join(tdir, "since.%d" % len(streams)), "w") as f:
                f.write(since)
            self.event("start", ID2, T1 + 10**9)
            while not os.path.exists(os.path.join(tdir, "die.1")):
                time.sleep(0.05)
            self.event("die", ID1, T1 + 2 * 10**9)
            time.sleep(3600)
            return
        self.reply({"message": "not found"}, 404)

class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = super().get_request()
        return conn, ("local", 0)

S(sock, H).serve_forever()
PY
lg_bg engine python3 "$T/engine.py" "$T/docker.sock" "$T" "$L" "$A" "$B"
lg_wait 10 "the stand-in engine" test -S "$T/docker.sock"

amb_start --omnimode --docker "unix://$T/docker.sock" --listen "127.0.0.1:$L"
# Container 1 (address 127.0.0.1, BACKEND_$L to alpha) comes on the first
# stream, which then ends; container 2 on the resumed one.
amb_expect "$L" alpha
lg_wait 10 "the second events request" test -s "$T/since.2"
[ "$(cat "$T/since.2")" = "$(cat "$T/event.1")" ] ||
	lg_fail "resumed with since=$(cat "$T/since.2"), the last event was at $(cat "$T/event.1")"
grep -q 'the events stream ended' "$T/ambassador.log" || lg_fail "the drop is not logged"
lg_wait 10 "container 2's route" grep -q "^10.9.9.2:6379 " "$T/run/omni.map"
echo "the events stream resumed with since=$(cat "$T/since.2") (the last event's time); container 2 seen"

# Container 1 dies: its route goes, the port rejects.
t0=$(amb_now_ms)
touch "$T/die.1"
lg_wait 10 "container 1's route to go" sh -c "! grep -q '^127.0.0.1:$L ' '$T/run/omni.map'"
# The file is installed before the reload it asks for is confirmed.
lg_wait 10 "the port to reject container 1" sh -c "curl -s -m 2 -o /dev/null http://127.0.0.1:$L/; [ \$? = 56 ]"
echo "container 1 gone after its die event: its port resets (curl exit 56) $(( $(amb_now_ms) - t0 )) ms after the event"
amb_alive
amb_stop
