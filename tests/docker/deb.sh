# legate-test: serial
# legate-test: timeout=900
# make deb builds the Debian package with debhelper and lintian finds no
# error in it; installed with apt on a fresh bookworm (the debootstrap base
# image, in a container), legate and legate-init run, legate renders a
# template once, the manual pages are there, the supervisorctl link answers,
# and legate.service is installed but not enabled.
. "$LEGATE_ROOT/tests/lib.sh"

[ "${LEGATE_FLAVOR:-release}" = asan ] &&
	lg_skip "skipped in the sanitizer run: the package builds legate without sanitizers (runs once, in the normal run)"
[ -n "${LEGATE_NO_DOCKER:-}" ] && lg_skip "LEGATE_NO_DOCKER is set"
command -v dpkg-buildpackage > /dev/null && command -v lintian > /dev/null && command -v dh > /dev/null ||
	lg_skip "debhelper or lintian is not installed (make deps installs them)"
command -v docker > /dev/null || lg_skip "no docker client"
docker info > /dev/null 2>&1 || lg_skip "no Docker engine answers (docker info failed)"
. "$LEGATE_ROOT/tests/docker/images.bash"

# lintian leaves its caches in TMPDIR: they go with $T.
TMPDIR=$T make -C "$LEGATE_ROOT" --no-print-directory deb DEB_DIR="$T/deb" > "$T/deb.log" 2>&1 ||
	lg_fail "make deb: $(tail -30 "$T/deb.log")"
deb=$(ls "$T"/deb/legate_*_amd64.deb) || lg_fail "no .deb in $T/deb"
TMPDIR=$T lintian --fail-on error "$deb" > "$T/lintian" 2>&1 || lg_fail "lintian: $(cat "$T/lintian")"
echo "# $(basename "$deb"): $(stat -c %s "$deb") bytes; lintian: $(grep -c '^E:' "$T/lintian") errors, $(grep -c '^W:' "$T/lintian") warnings"

lg_img_base || lg_fail "no base image"
name=legate-deb-$$
trap 'docker rm -f "$name" > /dev/null 2>&1; lg_cleanup' EXIT
docker run --name "$name" --rm -v "$T/deb:/deb:ro" "$LG_BASE_IMAGE" sh -ec '
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /deb/'"$(basename "$deb")"' > /dev/null 2>&1
	legate -version
	legate-init --version
	/usr/lib/legate/bin/supervisorctl -h | head -1
	printf "from the package\n" > /tmp/t.mustache
	legate -consul-addr 127.0.0.1:1 -once -template /tmp/t.mustache:/tmp/t.out 2> /tmp/log
	cat /tmp/t.out
	ls /usr/share/man/man1/legate.1.gz /usr/share/man/man5/legate.hcl.5.gz /usr/share/man/man8/legate-init.8.gz
	ls /usr/share/legate/examples/legate.hcl /usr/share/legate/templates/haproxy.cfg.mustache
	grep -x "ExecStart=/usr/bin/legate -config /etc/legate/legate.hcl" /lib/systemd/system/legate.service
	if [ -e /etc/systemd/system/multi-user.target.wants/legate.service ]; then echo enabled; else echo not-enabled; fi
' > "$T/run" 2>&1 || lg_fail "in the container: $(cat "$T/run")"
for want in '^legate [0-9]' '^legate-init [0-9]' '^usage: supervisorctl' '^from the package$' '^not-enabled$'; do
	grep -q "$want" "$T/run" || lg_fail "in the container, no line $want: $(cat "$T/run")"
done
echo "# installed on bookworm: $(head -1 "$T/run"), legate.service not enabled"
