# `make demo | tee log` stopped with Ctrl-C stops everything.  The pipeline
# runs in a session of its own with the signals a shell leaves to a
# foreground job; Ctrl-C is SIGINT to that process group, as a terminal
# sends it, and tee dies with it.  Afterwards nothing of the session, no
# nginx backend (they run in sessions of their own) and no demo directory
# is left, also of a backend added by `make demo-scale`.
# legate-test: timeout=240
. "$LEGATE_ROOT/tests/lib.sh"

command -v consul > /dev/null && command -v nginx > /dev/null && command -v haproxy > /dev/null ||
	lg_skip "consul, nginx and haproxy are needed"
D=$T/demo
sanitize=
[ "${LEGATE_FLAVOR:-release}" = asan ] && sanitize=SANITIZE=1

# The backends escape the test's session: stop them whatever happens.
demo_cleanup() {
	local rc=$? f pid
	for f in "$D"/nginx-*/pid "$D"/nginx-*/nginx.pid; do
		[ -f "$f" ] && pid=$(cat "$f") && grep -qF "$D/" "/proc/$pid/cmdline" 2> /dev/null &&
			kill -KILL "$pid" 2> /dev/null
	done
	set +e
	(exit $rc)
	lg_cleanup
}
trap demo_cleanup EXIT

export LEGATE_DEMO_DIR=$D
setsid env --default-signal=INT,QUIT,PIPE bash -c \
	'make --no-print-directory -C "$LEGATE_ROOT" demo '"$sanitize"' 2> "$0/make.err" | tee "$0/out" > /dev/null' "$T" &
SID=$!
LG_PIDS+=("$SID")
LG_LOGS+=("$T/out" "$T/make.err")
for ((i = 0; ; i++)); do
	grep -q 'Ctrl-C stops everything' "$T/out" && break
	grep -q '^demo: stopped' "$T/out" && lg_fail "the demo did not start"
	[ $i -lt 1800 ] || lg_fail "the demo is not up after 180 s"
	sleep 0.1
done
[ -f "$D/state" ] || lg_fail "no $D/state"
# A fourth backend from another process (make demo-scale), stopped too.
make --no-print-directory -s -C "$LEGATE_ROOT" demo-scale N=4 $sanitize > "$T/scale.log" 2>&1 ||
	lg_fail "demo-scale N=4: $(cat "$T/scale.log")"
mapfile -t nginx < <(cat "$D"/nginx-*/pid)
[ ${#nginx[@]} = 4 ] || lg_fail "${#nginx[@]} nginx backends, not 4"
http=$(sed -n 's/^HTTP=//p' "$D/state")
curl -sf "http://$http/" > /dev/null || lg_fail "HAProxy does not answer on $http"

kill -INT -- "-$SID"

gone() {
	local pid
	[ -z "$(ps -o pid= --sid "$SID" 2> /dev/null)" ] || return 1
	for pid in "${nginx[@]}"; do
		kill -0 "$pid" 2> /dev/null && return 1
	done
	[ ! -e "$D" ]
}
lg_wait 60 "the demo stopped ($(ps -o pid=,comm= --sid "$SID" | tr '\n' ' '); dir: $(ls "$D" 2> /dev/null | tr '\n' ' '))" gone
if curl -s -m 2 "http://$http/" > /dev/null; then
	lg_fail "something still answers on $http"
fi
grep -q '^demo: stopped' "$T/out" && lg_fail "tee outlived Ctrl-C: the test did not reproduce a pipe"
true
