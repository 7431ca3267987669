# Smoke: two nginx backends start on free ports and serve their own names.
. "$LEGATE_ROOT/tests/lib.sh"

lg_start_nginx alpha
a=$NGINX_PORT
lg_start_nginx beta
b=$NGINX_PORT
[ "$a" != "$b" ] || lg_fail "both backends got port $a"
[ "$(curl -sf "http://127.0.0.1:$a/")" = alpha ] || lg_fail "alpha does not answer alpha"
[ "$(curl -sf "http://127.0.0.1:$b/")" = beta ] || lg_fail "beta does not answer beta"
