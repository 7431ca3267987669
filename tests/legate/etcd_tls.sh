# etcd over TLS that asks for a client certificate (a CA made here with
# openssl): legate reads and follows with -etcd-ca-cert/-etcd-cert/-etcd-key
# or ETCDCTL_CACERT/CERT/KEY, checks the name given by -etcd-server-name
# when the address is not the certificate's, and fails without a client
# certificate, or against a name the certificate does not carry.
# legate-test: timeout=120
. "$LEGATE_ROOT/tests/lib.sh"

D=$T/pki
mkdir -p "$D"
cert() { # NAME SUBJECT [EXTFILE]: a key and a certificate signed by the CA
	openssl req -new -newkey rsa:2048 -nodes -keyout "$D/$1.key" -subj "$2" -out "$D/$1.csr" 2>/dev/null
	openssl x509 -req -in "$D/$1.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" -CAcreateserial \
		-days 2 -out "$D/$1.crt" ${3:+-extfile "$3"} 2>/dev/null
}
openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$D/ca.key" -subj "/CN=legate test CA" \
	-days 2 -out "$D/ca.crt" 2>/dev/null
printf 'subjectAltName=DNS:etcd.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' > "$D/server.ext"
printf 'extendedKeyUsage=clientAuth\n' > "$D/client.ext"
cert server "/CN=etcd.test" "$D/server.ext"
cert client "/CN=legate" "$D/client.ext"

ETCD_SCHEME=https
ETCD_CURL=(--cacert "$D/ca.crt" --cert "$D/client.crt" --key "$D/client.key")
lg_start_etcd --cert-file "$D/server.crt" --key-file "$D/server.key" \
	--trusted-ca-file "$D/ca.crt" --client-cert-auth
lg_etcd_put /tls/greeting hello > /dev/null
printf 'greeting {{key.tls/greeting}}\n' > "$T/t.mustache"
TLS=(-etcd-ca-cert "$D/ca.crt" -etcd-cert "$D/client.crt" -etcd-key "$D/client.key")

out=$("$LEGATE_BIN/legate" -etcd-addr "https://$ETCD_ADDR" "${TLS[@]}" -once -dry -template "$T/t.mustache:$T/t.cfg")
[ "$out" = "> $T/t.cfg
greeting hello" ] || lg_fail "flags: rendered: $out"

# etcdctl's environment; a bare host:port with a CA given means https.
out=$(ETCDCTL_ENDPOINTS=$ETCD_ADDR ETCDCTL_CACERT=$D/ca.crt ETCDCTL_CERT=$D/client.crt \
	ETCDCTL_KEY=$D/client.key "$LEGATE_BIN/legate" -once -dry -template "$T/t.mustache:$T/t.cfg")
[ "$out" = "> $T/t.cfg
greeting hello" ] || lg_fail "ETCDCTL_*: rendered: $out"

# The certificate's name, reached at an address it does not name.
out=$("$LEGATE_BIN/legate" -etcd-addr "localhost:$ETCD_PORT" -etcd-server-name etcd.test "${TLS[@]}" \
	-once -dry -template "$T/t.mustache:$T/t.cfg")
[ "$out" = "> $T/t.cfg
greeting hello" ] || lg_fail "-etcd-server-name: rendered: $out"

# Refused: no client certificate; a name the certificate does not carry.
rc=0
timeout 4 "$LEGATE_BIN/legate" -etcd-addr "https://$ETCD_ADDR" -etcd-ca-cert "$D/ca.crt" -once \
	-template "$T/t.mustache:$T/none.cfg" > "$T/nocert.log" 2>&1 || rc=$?
[ "$rc" = 124 ] && [ ! -e "$T/none.cfg" ] || lg_fail "without a client certificate: exit $rc"
grep -q 'etcd: range:' "$T/nocert.log" || { cat "$T/nocert.log"; lg_fail "no error logged"; }
rc=0
timeout 4 "$LEGATE_BIN/legate" -etcd-addr "https://$ETCD_ADDR" -etcd-server-name other.test "${TLS[@]}" \
	-once -template "$T/t.mustache:$T/none.cfg" > "$T/badname.log" 2>&1 || rc=$?
[ "$rc" = 124 ] && [ ! -e "$T/none.cfg" ] || lg_fail "with a wrong server name: exit $rc"

# What cannot be honoured is refused by name.
rc=0
ETCDCTL_DISCOVERY_SRV=example.com "$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -once \
	-template "$T/t.mustache:$T/none.cfg" > "$T/srv.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q 'ETCDCTL_DISCOVERY_SRV' "$T/srv.log" || lg_fail "ETCDCTL_DISCOVERY_SRV accepted"
rc=0
"$LEGATE_BIN/legate" -etcd-addr "$ETCD_ADDR" -etcd-cert "$D/client.crt" -once \
	-template "$T/t.mustache:$T/none.cfg" > "$T/half.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q 'needs its key' "$T/half.log" || lg_fail "a certificate without its key accepted"

# The daemon follows over TLS.
lg_bg legate "$LEGATE_BIN/legate" -etcd-addr "https://$ETCD_ADDR" "${TLS[@]}" -template "$T/t.mustache:$T/t.cfg"
LEGATE_PID=$LG_LAST_PID
lg_wait 10 "the first render" grep -qx 'greeting hello' "$T/t.cfg"
lg_etcd_put /tls/greeting again > /dev/null
lg_wait 10 "the change" grep -qx 'greeting again' "$T/t.cfg"
lg_alive "$LEGATE_PID" || lg_fail "legate exited"
echo ok
