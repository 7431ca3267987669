#!/bin/sh
# Builds the newer Consul the tests also run against (1.14.11, MPL-2.0) from
# the Go module proxy into a cache outside the checkout, once; later runs
# find the binary there and do nothing.
#
#   scripts/consul-new.sh [--force]    build unless the binary is there
#   scripts/consul-new.sh --path       print where the binary is (or goes)
#   scripts/consul-new.sh --version    print the version it builds
#
# The cache is $LEGATE_CACHE (default /var/cache/legate as root, else
# ~/.cache/legate); the binary is $LEGATE_CACHE/consul-1.14.11/consul.
# A failed build leaves its reason in .../build.failed, which the test
# harness shows when it skips the tests that need this agent.  Without
# --force a failure less than an hour old is not retried (`make deps`
# passes --force; `make check` does not), so a machine without the module
# proxy does not pay for a failing build on every run.
set -eu

VERSION=1.14.11
if [ -z "${LEGATE_CACHE:-}" ]; then
	if [ "$(id -u)" = 0 ]; then
		LEGATE_CACHE=/var/cache/legate
	else
		LEGATE_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/legate
	fi
fi
DIR=$LEGATE_CACHE/consul-$VERSION
BIN=$DIR/consul
FAILED=$DIR/build.failed

[ "${1:-}" = --path ] && { echo "$BIN"; exit 0; }
[ "${1:-}" = --version ] && { echo "$VERSION"; exit 0; }
force=0
[ "${1:-}" = --force ] && force=1

[ -x "$BIN" ] && exit 0

say() { echo "consul $VERSION: $*" >&2; }

# fail WHY LOG: records the reason, says it, and exits 1.
fail() {
	{ echo "$1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 20 "$2"; } > "$FAILED" 2>/dev/null || true
	say "error: $1"
	[ -n "${2:-}" ] && [ -f "$2" ] && tail -n 20 "$2" | sed 's/^/    | /' >&2
	say "the tests against it are skipped; the others still run against Debian's consul"
	exit 1
}

mkdir -p "$DIR" || { say "error: cannot create $DIR (set LEGATE_CACHE)"; exit 1; }

# One build at a time on a machine: a second caller waits, then finds the binary.
if [ -z "${LEGATE_CONSUL_LOCKED:-}" ] && command -v flock > /dev/null; then
	LEGATE_CONSUL_LOCKED=1 exec flock "$DIR/.lock" sh "$0" "$@"
fi
[ -x "$BIN" ] && exit 0

if [ $force = 0 ] && [ -f "$FAILED" ] && [ -n "$(find "$FAILED" -mmin -60 2>/dev/null)" ]; then
	say "not built: the last try failed less than an hour ago ($(head -n 1 "$FAILED")); \`make deps\` tries again"
	exit 1
fi

GO=$(command -v go || true)
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
[ -n "$GO" ] || fail "no Go toolchain (go in PATH or /usr/local/go/bin/go)"

WORK=$(mktemp -d "$DIR/build.XXXXXX")
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
LOG=$WORK/build.log
say "building from the Go module proxy into $BIN (a few minutes, once)"
start=$(date +%s)

export GOFLAGS=-mod=mod CGO_ENABLED=0
(cd "$WORK" && "$GO" mod download -json "github.com/hashicorp/consul@v$VERSION") > "$WORK/mod.json" 2> "$LOG" || true
mod=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' "$WORK/mod.json")
if [ -z "$mod" ] || ! [ -f "$mod/go.mod" ]; then
	why=$(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' "$WORK/mod.json" | head -n 1)
	fail "go mod download github.com/hashicorp/consul@v$VERSION failed${why:+: $why}" "$LOG"
fi

# The module's go.mod replaces its sub-modules with folders the module zip
# does not carry; without the replace lines the proxy's versions are used.
cp -R "$mod" "$WORK/src" && chmod -R u+w "$WORK/src" || fail "cannot copy $mod"
sed -i '/^replace .*=>/d; /^replace (/,/^)/d' "$WORK/src/go.mod"
(cd "$WORK/src" && "$GO" mod tidy) >> "$LOG" 2>&1 || fail "go mod tidy failed" "$LOG"
(cd "$WORK/src" && "$GO" build -trimpath -o "$WORK/consul" .) >> "$LOG" 2>&1 ||
	fail "go build failed" "$LOG"
"$WORK/consul" version 2>/dev/null | grep -q "^Consul v$VERSION" ||
	fail "the built binary does not say it is Consul v$VERSION" "$LOG"
mv "$WORK/consul" "$BIN"
rm -f "$FAILED"
say "built in $(($(date +%s) - start))s: $BIN"
