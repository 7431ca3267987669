#!/bin/sh
# Installs, as root, every Debian package legate needs to build, test,
# benchmark and run its demo.  Idempotent: a second run installs nothing.
# Consul is not in bookworm; it comes from the bullseye suite, pinned so that
# nothing else is ever taken from there.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev
libcurl4-openssl-dev libjansson-dev libc-ares-dev libmicrohttpd-dev
haproxy etcd-server etcd-client nginx-light consul
curl openssl wrk valgrind redis-server redis-tools iproute2 util-linux procps psmisc bind9-dnsutils
node-mustache libkainjow-mustache-dev python3-pystache
tini dumb-init supervisor hyperfine debootstrap docker-compose
debhelper lintian man-db"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "legate: error: missing Debian packages:$missing" >&2
	echo "legate: run as root:  sudo make deps" >&2
	exit 1
fi

if ! [ -f /etc/apt/preferences.d/legate-bullseye-consul ]; then
	cat > /etc/apt/sources.list.d/legate-bullseye.list <<'LIST'
deb http://deb.debian.org/debian bullseye main
LIST
	cat > /etc/apt/preferences.d/legate-bullseye-consul <<'PIN'
# Only consul comes from bullseye; every other package ignores that suite.
Package: *
Pin: release n=bullseye
Pin-Priority: -10

Package: consul
Pin: release n=bullseye
Pin-Priority: 500
PIN
	rm -f /var/lib/apt/lists/lock.legate-updated
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
# Debian's packages start their daemons; tests start their own on free ports.
for s in nginx haproxy etcd consul supervisor; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$s" 2>/dev/null; then
		systemctl stop "$s" || true
	fi
	service "$s" stop >/dev/null 2>&1 || true
done
