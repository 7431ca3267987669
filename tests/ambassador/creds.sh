# Credentials the ambassador adds for the application: TLS to a backend
# that speaks only TLS and asks for a client certificate (CA, certificate
# and key from files or the environment, server name checked; a wrong CA
# or name refused), and Redis AUTH and SELECT sent for a client that sends
# none (a wrong password: an error in the log and the connection closed).
# Usage errors: a protocol legate cannot add credentials for, a password
# with no --auth, a variable that is not set.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

command -v openssl > /dev/null || lg_skip "no openssl"
command -v redis-server > /dev/null && command -v redis-cli > /dev/null ||
	lg_skip "no redis-server or redis-cli (make deps installs them)"

# --- a CA, a server certificate for backend.test and 127.0.0.1, a client
# certificate, and a CA that signed neither.
cd "$T"
pki() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
sign() {   # sign NAME CA SAN
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\n' "$3" > "$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
		-extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
pki ca
pki otherca
sign server ca "DNS:backend.test,IP:127.0.0.1"
sign client ca "DNS:client.test"
cd - > /dev/null

# --- nginx that speaks only TLS and wants a client certificate signed by ca.
TP=$(lg_ports 1)
d=$T/nginx-tls
lg_nginx_conf "$d" "127.0.0.1:$TP ssl" "		ssl_certificate $T/server.pem;
		ssl_certificate_key $T/server.key;
		ssl_client_certificate $T/ca.pem;
		ssl_verify_client on;"
echo secure > "$d/html/index.html"
lg_bg nginx-tls nginx -p "$d" -c "$d/nginx.conf" -e stderr
lg_wait 10 "nginx with TLS on $TP" curl -sf --cacert "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.key" \
	"https://127.0.0.1:$TP/"
# Plain HTTP to it gets no page: TLS only.
[ "$(curl -s -m 2 "http://127.0.0.1:$TP/" | grep -c secure)" = 0 ] || lg_fail "the backend answers plain HTTP"

read -r P1 P2 P3 P4 P5 P6 <<< "$(lg_ports 6)"

# Files; the certificate checked against the CA and the name backend.test.
amb_start --listen "127.0.0.1:$P1" --tls-ca "$T/ca.pem" --tls-cert "$T/client.pem" --tls-key "$T/client.key" \
	--tls-server-name backend.test "127.0.0.1:$TP"
amb_expect "$P1" secure
[ "$(stat -c %a "$T/run/port_$P1-crt.pem")" = 600 ] || lg_fail "the certificate and key are not mode 0600"
amb_stop
echo "a plaintext client reached the TLS backend (files)"

# The environment: PEMs in variables, the key inside the certificate's.
CA_PEM=$(cat "$T/ca.pem") CLIENT_PEM=$(cat "$T/client.pem" "$T/client.key") \
	amb_start --listen "127.0.0.1:$P2" --tls-ca env:CA_PEM --tls-cert env:CLIENT_PEM "127.0.0.1:$TP"
amb_expect "$P2" secure
amb_stop
echo "a plaintext client reached the TLS backend (environment)"

# A CA that did not sign the backend's certificate, and a name it does not
# carry: no page, the connection closed.
amb_start --listen "127.0.0.1:$P3" --tls-ca "$T/otherca.pem" --tls-cert "$T/client.pem" --tls-key "$T/client.key" \
	"127.0.0.1:$TP"
lg_wait 10 "the ambassador on $P3" sh -c "curl -s -m 2 -o /dev/null http://127.0.0.1:$P3/; [ \$? != 7 ]"
out=$(amb_get "$P3")
[ -z "$out" ] || lg_fail "a backend whose certificate the CA did not sign was used: $out"
amb_alive
amb_stop
amb_start --listen "127.0.0.1:$P3" --tls-ca "$T/ca.pem" --tls-cert "$T/client.pem" --tls-key "$T/client.key" \
	--tls-server-name other.test "127.0.0.1:$TP"
lg_wait 10 "the ambassador on $P3" sh -c "curl -s -m 2 -o /dev/null http://127.0.0.1:$P3/; [ \$? != 7 ]"
out=$(amb_get "$P3")
[ -z "$out" ] || lg_fail "a backend whose certificate does not carry the server name was used: $out"
amb_stop
echo "a wrong CA and a wrong name are refused"

# --- Redis with requirepass; the client sends no AUTH.
RP=$(lg_ports 1)
lg_bg redis redis-server --port "$RP" --bind 127.0.0.1 --requirepass 'pa ss"word' --save '' --appendonly no \
	--dir "$T"
lg_wait 10 "redis on $RP" sh -c "redis-cli -p $RP ping 2>&1 | grep -q NOAUTH"

amb_start --listen "127.0.0.1:$P4" --auth redis --password 'pa ss"word' --db 3 "127.0.0.1:$RP"
lg_wait 10 "redis through the ambassador" sh -c "[ \"\$(redis-cli -p $P4 ping)\" = PONG ]"
[ "$(redis-cli -p "$P4" set greeting hello)" = OK ] || lg_fail "SET through the ambassador"
[ "$(redis-cli -p "$P4" get greeting)" = hello ] || lg_fail "GET through the ambassador"
[ "$(REDISCLI_AUTH='pa ss"word' redis-cli -p "$RP" -n 3 get greeting)" = hello ] ||
	lg_fail "the value is not in database 3 (SELECT)"
[ "$(stat -c %a "$T/run/haproxy.cfg")" = 600 ] || lg_fail "a config with a password is not mode 0600"
amb_stop
echo "redis-cli with no AUTH: SET and GET through the ambassador (database 3)"

# The password from a file and from the environment.
printf 'pa ss"word\n' > "$T/redis.pass"
amb_start --listen "127.0.0.1:$P5" --auth=redis --password "file:$T/redis.pass" "127.0.0.1:$RP"
lg_wait 10 "redis through the ambassador" sh -c "[ \"\$(redis-cli -p $P5 ping)\" = PONG ]"
amb_stop
REDIS_PW='pa ss"word' amb_start --listen "127.0.0.1:$P5" --auth redis --password env:REDIS_PW "127.0.0.1:$RP"
lg_wait 10 "redis through the ambassador" sh -c "[ \"\$(redis-cli -p $P5 ping)\" = PONG ]"
amb_stop

# A wrong password: the health check takes the server out of the rotation
# and says why; a connection that comes before it is closed with the
# server's answer in the log.  Either way the client's connection is
# closed and reaches no data.
amb_start --listen "127.0.0.1:$P6" --auth redis --password wrong "127.0.0.1:$RP"
lg_wait 10 "the ambassador on $P6" sh -c "redis-cli -p $P6 ping 2>&1 | grep -vq 'Connection refused'"
lg_wait 10 "the refusal in the log" grep -q 'redis refused the credentials' "$T/ambassador.log"
lg_wait 10 "the server taken out of the rotation" grep -q "Server port_$P6/s1 is DOWN" "$T/ambassador.log"
out=$(redis-cli -p "$P6" get greeting 2>&1 || true)
case $out in *"closed the connection"*) ;; *) lg_fail "a wrong password: redis-cli said: $out" ;; esac
amb_alive
amb_stop
grep 'redis refused the credentials' "$T/ambassador.log" | head -n 2
echo "a wrong password: the connection closed, the reason in the log"

# --- usage errors: exit 2 and why.
rc=0; "$LEGATE_BIN/legate" ambassador --auth postgres --password x 127.0.0.1:5432 2> "$T/err" || rc=$?
[ $rc = 2 ] && grep -q 'redis only' "$T/err" || lg_fail "--auth postgres: exit $rc, $(cat "$T/err")"
rc=0; "$LEGATE_BIN/legate" ambassador --password x 127.0.0.1:6379 2> "$T/err" || rc=$?
[ $rc = 2 ] && grep -q 'need --auth redis' "$T/err" || lg_fail "--password alone: exit $rc, $(cat "$T/err")"
rc=0; env -u NO_SUCH_PW "$LEGATE_BIN/legate" ambassador --run-dir "$T/run2" --auth redis --password env:NO_SUCH_PW \
	127.0.0.1:6379 2> "$T/err" || rc=$?
[ $rc = 2 ] && grep -q 'NO_SUCH_PW: the variable is not set' "$T/err" || lg_fail "an unset variable: exit $rc, $(cat "$T/err")"
rc=0; "$LEGATE_BIN/legate" ambassador --run-dir "$T/run2" --tls-cert "$T/client.pem" 127.0.0.1:443 2> "$T/err" || rc=$?
[ $rc = 2 ] && grep -q 'no private key' "$T/err" || lg_fail "a certificate with no key: exit $rc, $(cat "$T/err")"
rc=0; "$LEGATE_BIN/legate" ambassador --run-dir "$T/run2" --tls-ca "$T/nonexistent.pem" 127.0.0.1:443 2> "$T/err" || rc=$?
[ $rc = 2 ] && grep -q 'cannot read' "$T/err" || lg_fail "a missing CA file: exit $rc, $(cat "$T/err")"

# Options before a BACKEND are every forward's; after one, that forward's.
"$LEGATE_BIN/legate" ambassador --print-config --tls-verify none 127.0.0.1:443 127.0.0.1:444 --tls-verify required \
	> "$T/two.cfg"
grep -q 'server s1 127.0.0.1:443 ssl verify none$' "$T/two.cfg" || { cat "$T/two.cfg"; lg_fail "defaults"; }
grep -q 'server s1 127.0.0.1:444 ssl verify required ca-file @system-ca$' "$T/two.cfg" ||
	{ cat "$T/two.cfg"; lg_fail "a forward's own option"; }
