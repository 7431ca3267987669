# watcher/fuzz/seeds.sh: writes the watch fuzzer's seed corpus from the
# answers of a real Consul dev agent and etcd (the tests' servers), in the
# fuzzer's input format (see watch_fuzz.c).  Run from the repository root:
#   LEGATE_ROOT=$PWD bash watcher/fuzz/seeds.sh
. "$LEGATE_ROOT/tests/lib.sh"

out=$LEGATE_ROOT/watcher/fuzz/corpus
mkdir -p "$out"
lg_start_consul
lg_start_etcd

# rec CTL URL [METHOD BODY]: one record answering with the real body (and
# its index line when CTL has bit 2).
rec() {
	local ctl=$1 url=$2 idx
	if [ $# -ge 4 ]; then
		curl -s -D "$T/h" -o "$T/b" -X "$3" --data-binary "$4" "$url"
	else
		curl -s -D "$T/h" -o "$T/b" "$url"
	fi
	printf "\\x$(printf %02x "$ctl")"
	if [ $((ctl & 4)) != 0 ]; then
		idx=$(tr -d '\r' < "$T/h" | sed -n 's/^[Xx]-\(Consul\|Etcd\)-Index: //p' | head -1)
		printf '%s\n' "${idx:-0}"
	fi
	cat "$T/b"
	printf '\0'
}
C=http://$CONSUL_HTTP_ADDR
consul_round() {
	rec 4 "$C/v1/catalog/services"
	rec 4 "$C/v1/catalog/services?dc=dc2"
	rec 4 "$C/v1/health/service/web?passing=1"
	rec 4 "$C/v1/health/service/web?tag=primary"
	rec 4 "$C/v1/catalog/nodes"
	rec 4 "$C/v1/catalog/node/legate-test"
	rec 4 "$C/v1/kv/config/maxconn"
	rec 4 "$C/v1/kv/config?recurse="
}
lg_consul_register web-1 web 9001 '["haproxy","primary"]' > /dev/null
lg_consul PUT /v1/kv/config/maxconn 100 > /dev/null
lg_consul PUT /v1/kv/config/limits/a 1 > /dev/null
{ printf '\x00\xff'; consul_round; } > "$out/consul_all"
lg_consul_register web-2 web 9002 '["haproxy"]' > /dev/null
lg_consul PUT /v1/agent/check/register '{"Name":"web-2-check","ServiceID":"web-2","TTL":"30s","Status":"critical"}' > /dev/null
lg_consul PUT /v1/kv/config/maxconn 200 > /dev/null
{ printf '\x00\xff'; consul_round; consul_round; } > "$out/consul_changes"
{
	printf '\x04\xff'
	rec 4 "$C/v1/catalog/services"
	rec 4 "$C/v1/catalog/services"
	rec 4 "$C/v1/health/state/any"
	rec 4 "$C/v1/kv/?keys="
	rec 4 "$C/v1/health/service/web?passing=1"
	rec 4 "$C/v1/health/service/web"
	rec 4 "$C/v1/catalog/nodes"
	rec 4 "$C/v1/catalog/node/legate-test"
	rec 4 "$C/v1/kv/config/maxconn"
	rec 4 "$C/v1/kv/config?recurse="
	rec 4 "$C/v1/health/state/any"
} > "$out/consul_triggers"
{
	printf '\x00\x41'
	rec 6 "$C/v1/catalog/services"     # 500 with an index
	rec 4 "$C/v1/kv/config/nothing"    # 404
	printf '\x03\0\x0b\0'              # refused, timed out
	printf '\x04%s\n[{"Node": 1}\0' 12
	printf '\x04%s\n{}\0' 11
	rec 4 "$C/v1/catalog/services"
} > "$out/consul_errors"

E=http://$ETCD_ADDR
k=$(lg_b64 /config/maxconn)
p=$(lg_b64 /config)
pe=$(lg_b64 /confih)
lg_etcd_put /config/maxconn 100 > /dev/null
lg_etcd_put /config/limits/a 1 > /dev/null
rev=$(curl -s "$E/v3/kv/range" -d "{\"key\":\"$k\"}" | sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p')
v1=$(lg_b64 200)
txn="{\"success\":[{\"request_range\":{\"key\":\"$k\"}},{\"request_range\":{\"key\":\"$p\",\"range_end\":\"$pe\"}}]}"
{
	printf '\x01\xc0'
	# Both watches read in one txn, then one stream for both: created, a
	# put split in three, a progress notice, a delete; then it ends.
	rec 0 "$E/v3/kv/txn" POST "$txn"
	printf '\x00{"result":{"header":{"revision":"%s"},"created":true}}\n\x01' "$rev"
	printf '{"result":{"header":{"revision":"%s"},"events":[{"kv":{"key":"%s",\x01"mod_revision":"%s","value":"%s"}}]}}\n' \
		"$((rev + 1))" "$k" "$((rev + 1))" "$v1"
	printf '\x01{"result":{"header":{"revision":"%s"}}}\n' "$((rev + 2))"
	printf '{"result":{"header":{"revision":"%s"},"events":[{"type":"DELETE","kv":{"key":"%s","mod_revision":"%s"}}]}}\n\0' \
		"$((rev + 3))" "$k" "$((rev + 3))"
	# The stream again: compacted, so a full read follows.
	printf '\x00{"result":{"header":{"revision":"%s"},"compact_revision":"%s"}}\n\0' "$((rev + 4))" "$((rev + 2))"
	rec 0 "$E/v3/kv/txn" POST "$txn"
	printf '\x00{"result":{"header":{"revision":"%s"},"canceled":true}}\n\0' "$((rev + 5))"
	printf '\x00{"error":{"grpc_code":14,"http_code":503,"message":"unavailable"}}\n\0'
} > "$out/etcd3"
{
	printf '\x02\xc0'
	rec 4 "$E/v2/keys/config/maxconn?recursive=true"
	rec 4 "$E/v2/keys/config?recursive=true"
	curl -s -X PUT "$E/v2/keys/config/maxconn" -d value=300 > /dev/null
	rec 4 "$E/v2/keys/config/?wait=true&recursive=true&waitIndex=1"
	rec 4 "$E/v2/keys/config/maxconn?recursive=true"
	rec 5 "$E/v2/keys/config/none?recursive=true"
	printf '\x05{"errorCode":401,"message":"The event in requested index is outdated and cleared","index":40}\0'
	printf '\x0b\0'
} > "$out/etcd2"
ls -l "$out"
