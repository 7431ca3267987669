#!/usr/bin/env bash
# bench/init.sh: memory and size of legate-init next to tini, dumb-init and
# supervisord, each supervising the same `sleep` programs in the same run.
# RSS is the supervisor process's own VmRSS from /proc/PID/status once its
# programs run; sizes are the files as installed (stat), and stripped.
set -euo pipefail
root=${LEGATE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
bin=${LEGATE_BIN:-$root/bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/lg-bench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

for tool in tini dumb-init supervisord; do
	command -v $tool > /dev/null || { echo "bench/init: $tool is not installed (make deps)" >&2; exit 1; }
done
[ -x "$bin/legate-init" ] || { echo "bench/init: build $bin/legate-init first" >&2; exit 1; }
[ -x "$root/bin/legate-init.static" ] || make -s -C "$root" static-init > /dev/null

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
children() { pgrep -P "$1" | wc -l; }

# measure NAME WANT_CHILDREN CMD...: starts CMD, waits until it has its
# children, then prints the supervisor's VmRSS and Pss in kB.
measure() {
	local name=$1 want=$2 pid i
	shift 2
	"$@" > "$T/$name.log" 2>&1 &
	pid=$!
	pids+=($pid)
	for ((i = 0; i < 100; i++)); do
		[ "$(children $pid)" -ge "$want" ] && break
		sleep 0.1
	done
	[ "$(children $pid)" -ge "$want" ] || { echo "bench/init: $name did not start its programs" >&2; cat "$T/$name.log" >&2; exit 1; }
	sleep 1   # let it settle into its steady state
	echo "$(rss $pid) $(pss $pid)"
	kill -TERM $pid
	wait $pid 2>/dev/null || true
}

stripped() { cp "$1" "$T/strip"; strip "$T/strip"; stat -c %s "$T/strip"; }

cat > "$T/legate.conf" <<EOF
[program:one]
command=sleep 1000
[program:two]
command=sleep 1000
EOF
cat > "$T/supervisord.conf" <<EOF
[supervisord]
nodaemon=true
logfile=$T/supervisord.log
pidfile=$T/supervisord.pid
[program:one]
command=sleep 1000
[program:two]
command=sleep 1000
EOF

r_legate=$(measure legate-init 2 "$bin/legate-init" -S "$T/ctl.sock" -c "$T/legate.conf")
r_static=$(measure legate-init-static 2 "$root/bin/legate-init.static" -S "$T/ctl.sock" -c "$T/legate.conf")
r_tini=$(measure tini 1 tini -s -- sleep 1000)
r_tinis=$(measure tini-static 1 tini-static -s -- sleep 1000)
r_dumb=$(measure dumb-init 1 dumb-init -- sleep 1000)
r_sup=$(measure supervisord 2 supervisord -c "$T/supervisord.conf")

py=$(readlink -f "$(head -1 /usr/bin/supervisord | sed 's/^#! *//')")
sup_pkg=$(du -sb /usr/lib/python3/dist-packages/supervisor | cut -f1)
sup_size=$(( $(stat -c %s "$py") + sup_pkg + $(stat -c %s /usr/bin/supervisord) ))

printf '| %-22s | %-31s | %8s | %8s | %10s | %12s |\n' supervisor supervises "RSS (kB)" "PSS (kB)" "file (B)" "stripped (B)"
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..24})" "$(printf -- '-%.0s' {1..33})" "$(printf -- '-%.0s' {1..10})" "$(printf -- '-%.0s' {1..10})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..14})"
row() {
	local m=($3)
	printf '| %-22s | %-31s | %8s | %8s | %10s | %12s |\n' "$1" "$2" "${m[0]}" "${m[1]}" "$4" "$5"
}
row "legate-init" "2 programs, ordered, restarted" "$r_legate" "$(stat -c %s "$bin/legate-init")" "$(stripped "$bin/legate-init")"
row "legate-init (static)" "2 programs, ordered, restarted" "$r_static" "$(stat -c %s "$root/bin/legate-init.static")" "$(stripped "$root/bin/legate-init.static")"
row "tini" "1 command, no restarts" "$r_tini" "$(stat -c %s "$(command -v tini)")" "$(stripped "$(command -v tini)")"
row "tini-static" "1 command, no restarts" "$r_tinis" "$(stat -c %s "$(command -v tini-static)")" "$(stripped "$(command -v tini-static)")"
row "dumb-init" "1 command, no restarts" "$r_dumb" "$(stat -c %s "$(command -v dumb-init)")" "$(stripped "$(command -v dumb-init)")"
row "supervisord" "2 programs, restarted" "$r_sup" "$sup_size" "-"
echo
echo "supervisord's size: $py + the supervisor package + its script; all measured in this run."
echo "RSS counts shared libc pages in full; PSS divides them among the processes mapping them."
best=$(printf '%s\n' "legate-init ${r_legate%% *}" "legate-init-static ${r_static%% *}" "supervisord ${r_sup%% *}" | sort -k2 -n | head -1 | cut -d' ' -f1)
echo "smallest RSS among the supervisors of several programs: $best"
# What the image relies on: PID 1 under 1 MB resident, and the smallest.
static_rss=${r_static%% *}
[ "$static_rss" -lt 1024 ] || { echo "bench/init: the static legate-init has grown to $static_rss kB RSS (1 MB or more)" >&2; exit 1; }
echo "the static legate-init's RSS, $static_rss kB, is under 1 MB (1024 kB)"
case $best in legate-init*) ;; *) echo "bench/init: $best is smaller than legate-init" >&2; exit 1 ;; esac
