# bench/peers.bash: the peers the benchmarks measure beside legate, built
# outside the repository's sources into build/peers when the tools are
# there; nothing of them is committed.

# bench_consul_template: sets CT to consul-template v0.39.1 (built from the
# Go module proxy once), or to "" with a line saying its figures are empty.
bench_consul_template() {
	local peers=$LEGATE_ROOT/build/peers/bin go
	CT=$peers/consul-template
	if [ ! -x "$CT" ]; then
		go=$(command -v go || echo /usr/local/go/bin/go)
		if [ -x "$go" ]; then
			echo "# building consul-template v0.39.1 with $go (module proxy)"
			GOBIN=$peers "$go" install github.com/hashicorp/consul-template@v0.39.1 >/dev/null 2>&1 || true
		fi
	fi
	[ -x "$CT" ] || { echo "# consul-template not available: its figures are empty"; CT=; }
}
