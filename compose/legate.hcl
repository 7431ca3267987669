# legate's configuration for the HAProxy image.  The Consul agent comes from
# CONSUL_HTTP_ADDR (the compose file sets it to consul:8500).

template {
  source      = "/etc/legate/haproxy.cfg.mustache"
  destination = "/etc/haproxy/haproxy.cfg"
  perms       = 0644
  # A file that needs a reload is installed only when HAProxy accepts it.
  check       = "haproxy -c -q -f {{.src}}"
  # legate drives this HAProxy: a change to the servers of a backend goes
  # through the runtime API at once (no reload, no check: the runtime API
  # refuses what it cannot take, and legate then reloads instead);
  # anything else is installed after the check and reloaded through the
  # master CLI, confirmed by the master's reload counter.
  haproxy {
    master_socket  = "${HAPROXY_MASTER_SOCKET-/run/haproxy/master.sock}"
    # Removed servers get no new connection; their running ones may finish
    # for this long before they are shut.
    drain_timeout  = "30s"
    reload_timeout = "10s"
  }
  # Changes that need a reload and come closer together than 100 ms make
  # one reload; a steady stream still reloads at least once a second.
  # Server changes do not wait.
  wait        = "100ms:1s"
}
