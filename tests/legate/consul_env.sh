# Consul's client settings, as consul-template takes them, against an agent
# serving HTTPS with a client certificate required and ACLs on (default
# deny): CONSUL_CACERT, CONSUL_CAPATH, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY,
# CONSUL_HTTP_SSL, CONSUL_HTTP_SSL_VERIFY, CONSUL_TLS_SERVER_NAME (the
# certificate names consul.test only, not 127.0.0.1: without the server name
# it is refused, with a wrong one too), CONSUL_HTTP_TOKEN_FILE; the same
# through the flags and the HCL ssl block; CONSUL_HTTP_AUTH (basic auth,
# through an nginx in front of the agent that demands it).  A file that
# cannot be read is an error at start naming the variable and the path.
# Each run is -once, so that a refusal is exit 14 and success exit 0.
# legate-test: timeout=150
. "$LEGATE_ROOT/tests/lib.sh"

command -v openssl > /dev/null || lg_skip "no openssl"
lg_consul_bin
C=$T/tls
mkdir -p "$C/capath"
(
	cd "$C"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
		-subj /CN=legate-test-ca
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=consul.test
	printf 'subjectAltName=DNS:consul.test\nextendedKeyUsage=serverAuth,clientAuth\n' > server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
		-days 2 -extfile server.ext
	openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=legate
	printf 'extendedKeyUsage=clientAuth\n' > client.ext
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem \
		-days 2 -extfile client.ext
	cp ca.pem capath/ && openssl rehash capath
) > "$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; lg_fail "cannot make certificates"; }

TOKEN=legate-root-token
LG_CONSUL_TOKEN=$TOKEN
master=master
lg_consul_at_least 1.11 && master=initial_management
lg_pick_consul_ports 2
HTTPS_PORT=${LG_MORE_PORTS[0]}
FILES="ca_file = \"$C/ca.pem\" cert_file = \"$C/server.pem\" key_file = \"$C/server.key\""
LG_CONSUL_EXTRA=(-hcl "ports { https = $HTTPS_PORT }"
	-hcl "acl { enabled = true default_policy = \"deny\" tokens { $master = \"$TOKEN\" agent = \"$TOKEN\" } }")
# 1.12 moved the TLS keys into a tls block.
if lg_consul_at_least 1.12; then
	LG_CONSUL_EXTRA+=(-hcl "tls { defaults { $FILES } https { verify_incoming = true } }")
else
	LG_CONSUL_EXTRA+=(-hcl "$FILES" -hcl "verify_incoming_https = true")
fi
lg_run_consul
curl -sSf -X PUT -H "X-Consul-Token: $TOKEN" --data-binary 42 \
	"http://$CONSUL_HTTP_ADDR/v1/kv/config/maxconn" > /dev/null
printf '%s\n' "$TOKEN" > "$T/token"
printf 'maxconn {{key.config/maxconn}}\n' > "$T/t.mustache"

# run NAME WANT_STATUS [VAR=VALUE...] -- [FLAGS...]: legate -once with only
# the given Consul variables.
n=0
run() {
	local name=$1 want=$2 rc=0 envs=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	rm -f "$T/out.cfg"
	env -u CONSUL_HTTP_ADDR "${envs[@]}" "$LEGATE_BIN/legate" -once -consul-retry=false \
		-template "$T/t.mustache:$T/out.cfg" "$@" > "$T/$name.log" 2>&1 || rc=$?
	LG_LOGS+=("$T/$name.log")
	[ "$rc" = "$want" ] || lg_fail "$name: exit $rc, want $want: $(tail -3 "$T/$name.log")"
	if [ "$want" = 0 ]; then
		grep -qx "maxconn 42" "$T/out.cfg" || lg_fail "$name: out.cfg: $(cat "$T/out.cfg" 2>&1)"
	else
		[ ! -e "$T/out.cfg" ] || lg_fail "$name: a file was written"
	fi
	n=$((n + 1))
}
A=https://127.0.0.1:$HTTPS_PORT
TLS=(CONSUL_CACERT="$C/ca.pem" CONSUL_CLIENT_CERT="$C/client.pem" CONSUL_CLIENT_KEY="$C/client.key"
	CONSUL_HTTP_TOKEN_FILE="$T/token")

# The certificate does not name 127.0.0.1.
run no-server-name 14 CONSUL_HTTP_ADDR="$A" "${TLS[@]}" --
grep -qi 'certificate\|SSL' "$T/no-server-name.log" || lg_fail "no-server-name: failed for another reason"
run server-name 0 CONSUL_HTTP_ADDR="$A" "${TLS[@]}" CONSUL_TLS_SERVER_NAME=consul.test --
run wrong-server-name 14 CONSUL_HTTP_ADDR="$A" "${TLS[@]}" CONSUL_TLS_SERVER_NAME=other.test --
# CONSUL_HTTP_SSL turns a bare host:port into HTTPS.
run http-ssl 0 CONSUL_HTTP_ADDR="127.0.0.1:$HTTPS_PORT" CONSUL_HTTP_SSL=true "${TLS[@]}" \
	CONSUL_TLS_SERVER_NAME=consul.test --
# A CA directory instead of the CA file.
run capath 0 CONSUL_HTTP_ADDR="$A" CONSUL_CAPATH="$C/capath" CONSUL_CLIENT_CERT="$C/client.pem" \
	CONSUL_CLIENT_KEY="$C/client.key" CONSUL_HTTP_TOKEN_FILE="$T/token" CONSUL_TLS_SERVER_NAME=consul.test --
# Without the client certificate the agent refuses the handshake.
run no-client-cert 14 CONSUL_HTTP_ADDR="$A" CONSUL_CACERT="$C/ca.pem" CONSUL_HTTP_TOKEN_FILE="$T/token" \
	CONSUL_TLS_SERVER_NAME=consul.test --
# The explicit insecure switch: no CA, no server name.
run no-verify 0 CONSUL_HTTP_ADDR="$A" CONSUL_HTTP_SSL_VERIFY=false CONSUL_CLIENT_CERT="$C/client.pem" \
	CONSUL_CLIENT_KEY="$C/client.key" CONSUL_HTTP_TOKEN_FILE="$T/token" --
# The ACL: no token is a 403 (default deny); CONSUL_HTTP_TOKEN works too.
run no-token 14 CONSUL_HTTP_ADDR="$A" CONSUL_CACERT="$C/ca.pem" CONSUL_CLIENT_CERT="$C/client.pem" \
	CONSUL_CLIENT_KEY="$C/client.key" CONSUL_TLS_SERVER_NAME=consul.test --
grep -q 'HTTP 403' "$T/no-token.log" || lg_fail "no-token: not a 403"
run token 0 CONSUL_HTTP_ADDR="$A" CONSUL_CACERT="$C/ca.pem" CONSUL_CLIENT_CERT="$C/client.pem" \
	CONSUL_CLIENT_KEY="$C/client.key" CONSUL_TLS_SERVER_NAME=consul.test CONSUL_HTTP_TOKEN="$TOKEN" --
grep -q "$TOKEN" "$T"/*.log && lg_fail "the token was logged"

# The same through the flags, and through the HCL ssl block.
run flags 0 -- -consul-addr "$A" -consul-ssl-ca-cert "$C/ca.pem" -consul-ssl-cert "$C/client.pem" \
	-consul-ssl-key "$C/client.key" -consul-ssl-server-name consul.test -consul-token "$TOKEN"
run flag-over-env 0 CONSUL_TLS_SERVER_NAME=other.test -- -consul-addr "$A" -consul-ssl-ca-cert "$C/ca.pem" \
	-consul-ssl-cert "$C/client.pem" -consul-ssl-key "$C/client.key" -consul-ssl-server-name consul.test \
	-consul-token "$TOKEN"
cat > "$T/ssl.hcl" <<HCL
consul {
  address    = "127.0.0.1:$HTTPS_PORT"
  token_file = "$T/token"
  ssl {
    enabled     = true
    ca_path     = "$C/capath"
    cert        = "$C/client.pem"
    key         = "$C/client.key"
    server_name = "consul.test"
  }
}
HCL
run hcl 0 -- -config "$T/ssl.hcl"

# Files that cannot be read: exit 2 naming the variable (or flag) and path.
run missing-ca 2 CONSUL_HTTP_ADDR="$A" CONSUL_CACERT="$T/nonexistent.pem" --
grep -q "CONSUL_CACERT: $T/nonexistent.pem: No such file or directory" "$T/missing-ca.log" ||
	lg_fail "missing-ca: $(cat "$T/missing-ca.log")"
run missing-key 2 -- -consul-addr "$A" -consul-ssl-key "$T/nonexistent.key"
grep -q -- "-consul-ssl-key: $T/nonexistent.key" "$T/missing-key.log" || lg_fail "missing-key: $(cat "$T/missing-key.log")"
run missing-token-file 2 CONSUL_HTTP_TOKEN_FILE="$T/nonexistent.token" --
grep -q "CONSUL_HTTP_TOKEN_FILE: $T/nonexistent.token" "$T/missing-token-file.log" || lg_fail "missing-token-file"
run bad-bool 2 CONSUL_HTTP_SSL_VERIFY=perhaps --
grep -q 'CONSUL_HTTP_SSL_VERIFY="perhaps": not a boolean' "$T/bad-bool.log" || lg_fail "bad-bool"

# Basic auth: an nginx in front of the agent's HTTP port demands it.
P=$(lg_ports 1)
N=$T/nginx-auth
mkdir -p "$N/logs" "$N/tmp"
printf 'legate:%s\n' "$(openssl passwd -apr1 s3cret)" > "$N/htpasswd"
cat > "$N/nginx.conf" <<CONF
daemon off;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
pid $N/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $N/tmp;
	proxy_temp_path $N/tmp;
	fastcgi_temp_path $N/tmp;
	uwsgi_temp_path $N/tmp;
	scgi_temp_path $N/tmp;
	server {
		listen 127.0.0.1:$P;
		location / {
			auth_basic "consul";
			auth_basic_user_file $N/htpasswd;
			proxy_pass http://$CONSUL_HTTP_ADDR;
			proxy_read_timeout 120s;
		}
	}
}
CONF
lg_bg nginx-auth nginx -p "$N" -c "$N/nginx.conf" -e stderr
lg_wait 10 "nginx in front of the agent" sh -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$P/v1/status/leader | grep -q 401"
run auth-none 14 CONSUL_HTTP_ADDR="127.0.0.1:$P" CONSUL_HTTP_TOKEN="$TOKEN" --
grep -q 'HTTP 401' "$T/auth-none.log" || lg_fail "auth-none: not a 401"
run auth-env 0 CONSUL_HTTP_ADDR="127.0.0.1:$P" CONSUL_HTTP_TOKEN="$TOKEN" CONSUL_HTTP_AUTH=legate:s3cret --
run auth-wrong 14 CONSUL_HTTP_ADDR="127.0.0.1:$P" CONSUL_HTTP_TOKEN="$TOKEN" CONSUL_HTTP_AUTH=legate:nope --
run auth-flag 0 CONSUL_HTTP_TOKEN="$TOKEN" -- -consul-addr "127.0.0.1:$P" -consul-auth legate:s3cret
cat > "$T/auth.hcl" <<HCL
consul {
  address = "127.0.0.1:$P"
  token   = "$TOKEN"
  auth {
    enabled  = true
    username = "legate"
    password = "s3cret"
  }
}
HCL
run auth-hcl 0 -- -config "$T/auth.hcl"
grep -q s3cret "$T"/auth-*.log && lg_fail "the password was logged"
echo "# $n runs, each with the outcome wanted"
echo ok
