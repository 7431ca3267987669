# progrium/ambassadord's --links: Docker link variables NAME_PORT_N_TCP_ADDR
# and NAME_PORT_N_TCP_PORT give one forward per port N, listening on N.
. "$LEGATE_ROOT/tests/lib.sh"
. "$LEGATE_ROOT/tests/ambassador/amb.bash"

lg_start_nginx alpha
A=$NGINX_PORT
lg_start_nginx beta
B=$NGINX_PORT
lg_start_nginx gamma
G=$NGINX_PORT
# The link ports, as the linked containers expose them (free here, so the
# ambassador can listen on them).
read -r N1 N2 <<< "$(lg_ports 2)"

# What "docker run --link redis:redis --link http:http --link cache:cache"
# puts in the environment: redis and cache expose N1, http exposes N2.
export REDIS_PORT="tcp://127.0.0.1:$A"
export REDIS_PORT_${N1}_TCP="tcp://127.0.0.1:$A"
export REDIS_PORT_${N1}_TCP_ADDR=127.0.0.1 REDIS_PORT_${N1}_TCP_PORT=$A REDIS_PORT_${N1}_TCP_PROTO=tcp
export HTTP_PORT_${N2}_TCP_ADDR=127.0.0.1 HTTP_PORT_${N2}_TCP_PORT=$B HTTP_PORT_${N2}_TCP_PROTO=tcp
export CACHE_PORT_${N1}_TCP_ADDR=127.0.0.1 CACHE_PORT_${N1}_TCP_PORT=$G
export HTTP_NAME=/amb/http HTTP_ENV_PATH=/usr/bin

"$LEGATE_BIN/legate" ambassador --print-config --links > "$T/links.cfg"
grep -q "^    bind :$N1\$" "$T/links.cfg" && grep -q "^    bind :$N2\$" "$T/links.cfg" ||
	{ cat "$T/links.cfg"; lg_fail "--links does not listen on each link port"; }
[ "$(grep -c '^    server ' "$T/links.cfg")" = 3 ] || { cat "$T/links.cfg"; lg_fail "three linked backends"; }

amb_start --links
amb_expect "$N2" beta
amb_both "$N1" alpha gamma
amb_alive
amb_stop

# No link variables: a usage error.
rc=0
env -i PATH="$PATH" "$LEGATE_BIN/legate" ambassador --links 2> "$T/err" || rc=$?
[ $rc = 2 ] && grep -q 'no NAME_PORT_N_TCP_ADDR' "$T/err" || lg_fail "--links with no links: exit $rc"
