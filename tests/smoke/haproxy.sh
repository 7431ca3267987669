# Smoke: haproxy -c accepts a tiny config and refuses a broken one; the
# master-worker runs from the harness and proxies to an nginx backend.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_nginx web1
backend=$NGINX_PORT
front=$(lg_ports 1)
cat > "$T/haproxy.cfg" <<CFG
global
	log stderr format raw local0 warning
defaults
	mode http
	timeout connect 2s
	timeout client 5s
	timeout server 5s
frontend fe
	bind 127.0.0.1:$front
	default_backend be
backend be
	server web1 127.0.0.1:$backend check
CFG
haproxy -c -q -f "$T/haproxy.cfg" || lg_fail "haproxy -c refused a valid config"
printf 'backend broken\n\tserver x 127.0.0.1:notaport\n' > "$T/bad.cfg"
if haproxy -c -q -f "$T/bad.cfg" 2>/dev/null; then
	lg_fail "haproxy -c accepted a broken config"
fi
lg_start_haproxy "$T/haproxy.cfg"
lg_wait 10 "haproxy proxying to nginx" sh -c "curl -sf http://127.0.0.1:$front/ | grep -qx web1"
echo "show proc" | "$LEGATE_TOOLS/unixsock" "$HAPROXY_SOCK" | lg_grepq worker ||
	lg_fail "master CLI does not list a worker"
