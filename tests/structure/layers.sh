# The source tree's layers point one way and no module includes its way
# back to itself.  Every #include "DIR/FILE" of every .c and .h is read:
#
#   common/                          nothing of ours
#   watcher/  mustache/  haproxy/    common/ only, not each other
#   renderer/                        the three above and common/
#   legate/  ambassador/             everything above, and each other
#                                    (ambassador_main is one of the
#                                    subcommands legate/commands.h declares)
#   init/                            init/ and common/log.h only
#
# A private header (NAME_int.h, internal.h) is included only from its own
# folder.  A module's fuzz/ folder is in its module's layer; tests/ may
# include anything.  A folder of C files missing from the table fails
# until it gets a layer here.  Then the include graph must have no cycle,
# of files or of modules: foo.c and foo.h are one module, and a header
# with no .c of its own (watch_int.h, renderer/internal.h, source.h,
# commands.h) belongs to no module: including it counts as including what
# it includes.  Each cycle is printed with the include behind each step.
. "$LEGATE_ROOT/tests/lib.sh"

# check_tree ROOT: prints each problem of the tree under ROOT (a new file
# not yet committed counts; build output does not) and a last "#" line;
# fails when there is any.
check_tree() {
	local root=$1 f
	(cd "$root" && find . \( -name .git -o -name build -o -name bin -o -name '.?*' \) -prune \
	-o -type f \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | LC_ALL=C sort) > "$T/files"
	[ -s "$T/files" ] || { echo "no C file under $root"; return 1; }
	# One line per include: FILE<TAB>INCLUDED (as written).
	while IFS= read -r f; do
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$root/$f" |
			while IFS= read -r inc; do printf '%s\t%s\n' "$f" "$inc"; done
	done < "$T/files" > "$T/includes"
	awk -F '\t' -v files="$T/files" '
function dir_of(p) { return p ~ /\// ? substr(p, 1, index(p, "/") - 1) : "." }
function stem(p) { sub(/\.[ch]$/, "", p); return p }
# A file of a module: foo.c, or foo.h beside a foo.c.
function implemented(p) { return (stem(p) ".c") in present }
# An include as the compiler finds it with -I.: a name without a folder
# is beside the including file.
function resolve(file, inc,   d) {
	if (inc ~ /\//) return inc
	d = file; sub(/[^\/]*$/, "", d)
	return d inc
}

# The modules file f reaches through headers of no module, each with the
# chain of includes that leads there.
function reach(src, f, chain,   i, g, c) {
	for (i = 1; i <= nfout[f]; i++) {
		g = fout[f, i]
		c = chain " includes " g
		if (implemented(g) || !(g in present)) {
			add_edge(stem(src), stem(g), c)
		} else if (mark[g] != stamp) {
			mark[g] = stamp
			reach(src, g, c)
		}
	}
}
function add_edge(a, b, why) {
	if (a == b || ((a, b) in medge)) return
	medge[a, b] = why
	mout[a, ++nmout[a]] = b
	nmedges++
}

# Depth-first walks; meeting a node that is on the stack closes a cycle,
# printed from that node along the stack.
function fwalk(n, depth,   i, to, k, cyc) {
	fcolor[n] = 1; fstack[depth] = n
	for (i = 1; i <= nfout[n]; i++) {
		to = fout[n, i]
		if (fcolor[to] == 1) {
			for (k = depth; fstack[k] != to; k--) ;
			cyc = ""
			for (; k <= depth; k++) cyc = cyc fstack[k] " -> "
			printf "cycle of files: %s%s\n", cyc, to
			bad++
		} else if (fcolor[to] == 0)
			fwalk(to, depth + 1)
	}
	fcolor[n] = 2
}
function mwalk(n, depth,   i, to, k, k0, cyc) {
	mcolor[n] = 1; mstack[depth] = n
	for (i = 1; i <= nmout[n]; i++) {
		to = mout[n, i]
		if (mcolor[to] == 1) {
			for (k0 = depth; mstack[k0] != to; k0--) ;
			cyc = ""
			for (k = k0; k <= depth; k++) cyc = cyc mstack[k] " -> "
			printf "cycle of modules: %s%s\n", cyc, to
			for (k = k0; k < depth; k++)
				printf "    %s\n", medge[mstack[k], mstack[k + 1]]
			printf "    %s\n", medge[n, to]
			bad++
		} else if (mcolor[to] == 0)
			mwalk(to, depth + 1)
	}
	mcolor[n] = 2
}

BEGIN {
	# allowed[DIR]: the folders a file in DIR may include from; init/ gets
	# one header of common/, checked below.
	allowed["common"]     = " common "
	allowed["watcher"]    = " common watcher "
	allowed["mustache"]   = " common mustache "
	allowed["haproxy"]    = " common haproxy "
	allowed["renderer"]   = " common watcher mustache haproxy renderer "
	allowed["legate"]     = " common watcher mustache haproxy renderer legate ambassador "
	allowed["ambassador"] = " common watcher mustache haproxy renderer legate ambassador "
	allowed["init"]       = " init common "
	init_common["common/log.h"] = 1
	while ((getline f < files) > 0) {
		present[f] = 1
		flist[++nfiles] = f
		d = dir_of(f)
		if (d != "tests" && !(d in allowed) && !(d in unknown)) {
			unknown[d] = 1
			printf "%s: folder %s/ has no layer: give it one in tests/structure/layers.sh\n", f, d
			bad++
		}
	}
}
{
	file = $1; inc = resolve(file, $2); ninc++
	d = dir_of(file); to = dir_of(inc)
	if (d != "tests" && (d in allowed)) {
		if (index(allowed[d], " " to " ") == 0) {
			l = allowed[d]; gsub(/^ | $/, "", l)
			printf "%s: #include \"%s\": %s/ may include only from %s\n", file, $2, d, l
			bad++
		} else if (d == "init" && to == "common" && !(inc in init_common)) {
			printf "%s: #include \"%s\": init/ may include only common/log.h of common/\n", file, $2
			bad++
		} else if (d != to && inc ~ /(_int|\/internal)\.h$/) {
			printf "%s: #include \"%s\": a private header of %s/\n", file, $2, to
			bad++
		}
	}
	if (inc != file && !((file, inc) in fedge)) {
		fedge[file, inc] = 1
		fout[file, ++nfout[file]] = inc
	}
}
END {
	for (i = 1; i <= nfiles; i++)
		if (fcolor[flist[i]] == 0) fwalk(flist[i], 1)
	for (i = 1; i <= nfiles; i++) {
		f = flist[i]
		if (!implemented(f)) continue
		if (!(stem(f) in module)) { module[stem(f)] = 1; mlist[++nmod] = stem(f) }
		stamp++
		reach(f, f, f)
	}
	for (i = 1; i <= nmod; i++)
		if (mcolor[mlist[i]] == 0) mwalk(mlist[i], 1)
	printf "# %d files, %d includes, %d modules, %d module-to-module dependencies; %d problems\n", \
		nfiles, ninc, nmod, nmedges, bad
	exit (bad > 0)
}' "$T/includes"
}

# First a small tree with one fault of each kind, so that a checker that
# has gone blind fails here rather than passing the real tree.
fake=$T/fake
mkdir -p "$fake"/common "$fake"/watcher "$fake"/mustache "$fake"/renderer "$fake"/init \
	"$fake"/legate "$fake"/extra "$fake"/watcher/fuzz "$fake"/tests/unit
put() { printf '#include "%s"\n' "${@:2}" > "$fake/$1"; }
: > "$fake/common/log.h"
put common/buf.c      common/buf.h renderer/runner.h
put common/buf.h      common/log.h
put watcher/watch.c   watcher/watch.h watcher/watch_int.h common/buf.h
put watcher/watch.h   common/buf.h
put watcher/watch_int.h watcher/watch.h
put watcher/consul.c  watcher/consul.h watcher/watch_int.h
put watcher/consul.h  watcher/etcd.h
put watcher/etcd.c    watcher/etcd.h watcher/consul.h
put watcher/etcd.h    common/buf.h
put watcher/fuzz/f.c  mustache/mustache.h
put mustache/mustache.h common/buf.h
put mustache/a.h      mustache/b.h
put mustache/b.h      mustache/a.h
put renderer/runner.h watcher/watch.h mustache/mustache.h
put init/main.c       init/sup.h common/log.h common/buf.h
put init/sup.h        common/log.h
put legate/main.c     renderer/runner.h watcher/watch_int.h
put extra/x.c         common/log.h
put tests/unit/test_x.c legate/commands.h init/sup.h
set +e
check_tree "$fake" > "$T/fake.out" 2>&1
fake_rc=$?
set -e
cat > "$T/fake.want" <<'WANT'
extra/x.c: folder extra/ has no layer: give it one in tests/structure/layers.sh
common/buf.c: #include "renderer/runner.h": common/ may include only from common
init/main.c: #include "common/buf.h": init/ may include only common/log.h of common/
legate/main.c: #include "watcher/watch_int.h": a private header of watcher/
watcher/fuzz/f.c: #include "mustache/mustache.h": watcher/ may include only from common watcher
cycle of files: mustache/a.h -> mustache/b.h -> mustache/a.h
cycle of modules: common/buf -> watcher/watch -> common/buf
    common/buf.c includes renderer/runner.h includes watcher/watch.h
    watcher/watch.c includes common/buf.h
cycle of modules: watcher/consul -> watcher/etcd -> watcher/consul
    watcher/consul.h includes watcher/etcd.h
    watcher/etcd.c includes watcher/consul.h
WANT
grep -v '^#' "$T/fake.out" > "$T/fake.got" || true
if [ $fake_rc = 0 ] || ! diff -u "$T/fake.want" "$T/fake.got"; then
	cat "$T/fake.out"
	lg_fail "the checker does not find the faults of a tree made to have them (exit $fake_rc)"
fi
echo "# a made-up tree: $(grep -c -v '^ ' "$T/fake.got") faults found, each as expected"

# Then the real tree.
check_tree "$LEGATE_ROOT" || lg_fail "the layers or the include graph are broken (lines above)"
