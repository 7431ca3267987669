#!/usr/bin/env bash
# bench/mustache.sh: renders an HAProxy config for 1,000 backends of 5
# servers each with legate's Mustache engine and, in the same run, with
# mustache.js (node-mustache), kainjow mustache (C++) and pystache, all with
# HTML escaping off and the same template and data; checks that every engine
# wrote the same bytes and prints renders/s, MB/s and the ratio to mustache.js.
#
#   MUSTACHE_BENCH_SECONDS=2 (per engine and round)  MUSTACHE_BENCH_ROUNDS=3
#   BACKENDS=1000  SERVERS=5
set -euo pipefail
root=${LEGATE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
build=${LEGATE_BUILD:-$root/build/release}
here=$root/bench/mustache
secs=${MUSTACHE_BENCH_SECONDS:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/mustache-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3   # Debian's python, where python3-pystache lives

"$py" "$here/gen.py" "${BACKENDS:-1000}" "${SERVERS:-5}" > "$work/data.json"
tpl=$here/haproxy.mustache

mkdir -p "$build/bench"
kj=$build/bench/kainjow_bench
if [ ! -x "$kj" ] || [ "$here/kainjow_bench.cpp" -nt "$kj" ]; then
	g++ -std=c++11 -O2 -o "$kj" "$here/kainjow_bench.cpp" -ljansson
fi
mjs=$(dpkg -L node-mustache | grep '/mustache\.js$' | head -1)
legate_drv=$build/tests/tools/mustache_bench
[ -x "$legate_drv" ] || { echo "build $legate_drv first (make test-bins)" >&2; exit 1; }

# run NAME CMD...: the driver prints "renders seconds bytes"; the best
# round counts, as the machine may be busy with other work.
declare -A rate mbs
order=(legate mustache.js kainjow pystache)
run() {
	local name=$1 n s b r
	shift
	read -r n s b < <("$@" "$work/out.$name")
	r=$(awk -v n="$n" -v s="$s" 'BEGIN { printf "%.1f", n / s }')
	if [ -z "${rate[$name]:-}" ] || awk -v a="$r" -v b="${rate[$name]}" 'BEGIN { exit !(a > b) }'; then
		rate[$name]=$r
		mbs[$name]=$(awk -v n="$n" -v s="$s" -v b="$b" 'BEGIN { printf "%.1f", n * b / s / 1e6 }')
	fi
}
rounds=${MUSTACHE_BENCH_ROUNDS:-3}
for _ in $(seq "$rounds"); do
	run legate "$legate_drv" "$tpl" "$work/data.json" "$secs"
	run mustache.js node "$here/mustache_js.js" "$mjs" "$tpl" "$work/data.json" "$secs"
	run kainjow "$kj" "$tpl" "$work/data.json" "$secs"
	run pystache "$py" "$here/pystache_bench.py" "$tpl" "$work/data.json" "$secs"
done

size=$(stat -c %s "$work/out.legate")
for name in "${order[@]}"; do
	cmp -s "$work/out.legate" "$work/out.$name" ||
		echo "note: $name's output differs from legate's ($(stat -c %s "$work/out.$name") bytes)"
done
echo "HAProxy config, ${BACKENDS:-1000} backends x ${SERVERS:-5} servers, $size bytes per render, HTML escaping off"
echo "best of $rounds rounds of ${secs}s per engine, interleaved; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %12s %10s %14s\n' engine renders/s MB/s "vs mustache.js"
for name in "${order[@]}"; do
	printf '%-12s %12s %10s %13sx\n' "$name" "${rate[$name]}" "${mbs[$name]}" \
		"$(awk -v a="${rate[$name]}" -v b="${rate[mustache.js]}" 'BEGIN { printf "%.2f", a / b }')"
done
