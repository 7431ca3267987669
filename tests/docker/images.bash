# tests/docker/images.bash: builds, on a Docker engine that reaches no
# registry, every image the end-to-end test needs.  Sourced by e2e.sh, or run
# directly (`bash tests/docker/images.bash`) to build them ahead of time.
#
#   legate-base:bookworm     a debootstrap minbase root file system, imported
#   legate-haproxy:test      compose/Dockerfile, built FROM legate-base
#   legate-haproxy-build:test  its build stage, kept as the next build's cache
#   legate-consul:test       consul from Debian's bullseye suite
#   legate-nginx:test        nginx-light answering its own container name
#   legate-registrator:test  gliderlabs/registrator built with `go install`
#                            (or LEGATE_REGISTRATOR_BIN: a registrator binary
#                            built elsewhere, e.g. from a checkout of its source)
#
# Each image but legate-haproxy is built only when it is missing
# (LEGATE_DOCKER_REBUILD=1 rebuilds all but the base).  Progress goes to stderr, one line per image
# with its build time.

LG_IMG_ROOT=${LEGATE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LG_BASE_IMAGE=legate-base:bookworm
LG_DEBIAN_MIRROR=${LEGATE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
LG_GO=${LEGATE_GO:-/usr/local/go/bin/go}
# The last release, v7, predates Go modules: the module proxy is asked for the
# master branch.
LG_REGISTRATOR_PKG=${LEGATE_REGISTRATOR_PKG:-github.com/gliderlabs/registrator@master}

lg_img_log() { printf '# images: %s\n' "$*" >&2; }

lg_img_exists() { docker image inspect "$1" > /dev/null 2>&1; }

lg_img_want() {
	lg_img_exists "$1" || return 0
	[ "${LEGATE_DOCKER_REBUILD:-0}" = 1 ] && [ "$1" != "$LG_BASE_IMAGE" ]
}

# The base: debootstrap --variant=minbase, apt lists and caches dropped.
# Tests that need it may start together: one builds, the others wait.
lg_img_base() {
	local lk rc
	exec {lk}> /var/lock/legate-base-image.lock || return 1
	flock "$lk"
	lg_img_base_build
	rc=$?
	exec {lk}>&-
	return $rc
}

lg_img_base_build() {
	local dir start
	lg_img_want "$LG_BASE_IMAGE" || return 0
	if ! command -v debootstrap > /dev/null && [ "$(id -u)" = 0 ]; then
		lg_img_log "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap > /dev/null 2>&1 ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap; } > /dev/null 2>&1
	fi
	command -v debootstrap > /dev/null || {
		lg_img_log "debootstrap is not installed (apt-get install debootstrap)"
		return 1
	}
	start=$(date +%s)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/legate-rootfs.XXXXXX")
	if ! debootstrap --variant=minbase bookworm "$dir" "$LG_DEBIAN_MIRROR" > "$dir.log" 2>&1; then
		tail -n 20 "$dir.log" >&2
		rm -rf "$dir" "$dir.log"
		return 1
	fi
	rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
	printf 'deb %s bookworm main\n' "$LG_DEBIAN_MIRROR" > "$dir/etc/apt/sources.list"
	tar -C "$dir" -c . | docker import -c 'CMD ["/bin/bash"]' - "$LG_BASE_IMAGE" > /dev/null
	local rc=$?
	rm -rf "$dir" "$dir.log"
	[ $rc = 0 ] || return 1
	lg_img_log "$LG_BASE_IMAGE built in $(($(date +%s) - start))s"
}

# lg_img_build TAG CONTEXT [docker build args...]
lg_img_build() {
	local tag=$1 ctx=$2 start
	shift 2
	lg_img_want "$tag" || return 0
	start=$(date +%s)
	if ! docker build -q -t "$tag" --label legate-e2e=1 "$@" "$ctx" > "${TMPDIR:-/tmp}/legate-build.log" 2>&1; then
		tail -n 30 "${TMPDIR:-/tmp}/legate-build.log" >&2
		rm -f "${TMPDIR:-/tmp}/legate-build.log"
		return 1
	fi
	rm -f "${TMPDIR:-/tmp}/legate-build.log"
	lg_img_log "$tag built in $(($(date +%s) - start))s"
}

# The peers (consul, nginx) come from Debian, like the tests on the host.
lg_img_peers() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/legate-peers.XXXXXX")
	cat > "$d/Dockerfile.consul" <<'DF'
ARG BASE
FROM ${BASE}
# consul is not in bookworm: bullseye is added, pinned so that only consul
# comes from it (as scripts/deps.sh does on the host).
RUN printf 'deb http://deb.debian.org/debian bullseye main\n' > /etc/apt/sources.list.d/bullseye.list \
 && printf 'Package: *\nPin: release n=bullseye\nPin-Priority: -10\n\nPackage: consul\nPin: release n=bullseye\nPin-Priority: 500\n' > /etc/apt/preferences.d/bullseye-consul \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends consul ca-certificates \
 && rm -rf /var/lib/apt/lists/*
EXPOSE 8500 8600/udp
ENTRYPOINT ["consul"]
CMD ["agent", "-dev", "-client=0.0.0.0"]
DF
	cat > "$d/Dockerfile.nginx" <<'DF'
ARG BASE
FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/*
# Each container answers its own host name (the container id), so a client
# can tell which backend served it.
COPY nginx.conf /etc/nginx/conf.d/legate.conf
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
DF
	cat > "$d/nginx.conf" <<'CONF'
server {
	listen 80 default_server;
	access_log off;
	location / { default_type text/plain; return 200 "$hostname\n"; }
	location = /health { default_type text/plain; return 200 "ok\n"; }
}
CONF
	lg_img_build legate-consul:test "$d" -f "$d/Dockerfile.consul" --build-arg BASE="$LG_BASE_IMAGE" &&
		lg_img_build legate-nginx:test "$d" -f "$d/Dockerfile.nginx" --build-arg BASE="$LG_BASE_IMAGE"
	local rc=$?
	rm -rf "$d"
	return $rc
}

# registrator: `go install` on the host (the module proxy is reachable from
# here, not necessarily from inside a build), then copied into an image.
# LEGATE_REGISTRATOR_BIN names a registrator binary built elsewhere instead.
lg_img_registrator() {
	local d start bin
	lg_img_want legate-registrator:test || return 0
	start=$(date +%s)
	d=$(mktemp -d "${TMPDIR:-/tmp}/legate-registrator.XXXXXX")
	bin=${LEGATE_REGISTRATOR_BIN:-$LG_IMG_ROOT/build/peers/registrator}
	if [ -n "${LEGATE_REGISTRATOR_BIN:-}" ]; then
		[ -x "$bin" ] || { lg_img_log "LEGATE_REGISTRATOR_BIN=$bin is not an executable"; rm -rf "$d"; return 1; }
	elif ! [ -x "$bin" ]; then
		[ -x "$LG_GO" ] || { lg_img_log "no Go toolchain at $LG_GO"; rm -rf "$d"; return 1; }
		mkdir -p "${bin%/*}"
		if ! GOBIN=${bin%/*} CGO_ENABLED=0 GOFLAGS=-mod=mod GOPATH=${GOPATH:-$HOME/go} \
			"$LG_GO" install "$LG_REGISTRATOR_PKG" > "$d/go.log" 2>&1; then
			lg_img_log "go install $LG_REGISTRATOR_PKG failed:"
			tail -n 20 "$d/go.log" >&2
			rm -rf "$d"
			return 1
		fi
	fi
	cp "$bin" "$d/registrator"
	cat > "$d/Dockerfile" <<'DF'
ARG BASE
FROM ${BASE}
COPY registrator /bin/registrator
ENTRYPOINT ["/bin/registrator"]
DF
	lg_img_build legate-registrator:test "$d" --build-arg BASE="$LG_BASE_IMAGE"
	local rc=$?
	rm -rf "$d"
	[ $rc = 0 ] && lg_img_log "registrator ready after $(($(date +%s) - start))s"
	return $rc
}

# Built at every run, from the tree as it is (Docker's layer cache makes an
# unchanged tree quick): the test must not run an older legate.  The build
# stage is tagged too (legate-haproxy-build:test): its layers (compilers,
# the compiled tree) are the cache of the next build, and only the images a
# build replaced are pruned.
lg_img_haproxy() {
	LEGATE_DOCKER_REBUILD=1 lg_img_build legate-haproxy-build:test "$LG_IMG_ROOT" -f "$LG_IMG_ROOT/compose/Dockerfile" \
		--target build --build-arg BASE="$LG_BASE_IMAGE" &&
		LEGATE_DOCKER_REBUILD=1 lg_img_build legate-haproxy:test "$LG_IMG_ROOT" -f "$LG_IMG_ROOT/compose/Dockerfile" \
			--build-arg BASE="$LG_BASE_IMAGE" || return 1
	# The images these builds replaced, now untagged.
	docker image prune -f --filter label=legate-e2e=1 > /dev/null 2>&1 || true
	docker image prune -f --filter label=org.legate.stage=build > /dev/null 2>&1 || true
}

lg_img_all() {
	lg_img_base && lg_img_peers && lg_img_registrator && lg_img_haproxy
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	case ${1:-all} in
	base) lg_img_base ;;
	peers) lg_img_base && lg_img_peers ;;
	registrator) lg_img_base && lg_img_registrator ;;
	haproxy) lg_img_base && lg_img_haproxy ;;
	all) lg_img_all ;;
	*) echo "usage: $0 [base|peers|registrator|haproxy|all]" >&2; exit 2 ;;
	esac
fi
