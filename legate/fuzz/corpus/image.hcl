# legate's configuration for the HAProxy image.  The Consul agent comes from
# CONSUL_HTTP_ADDR (the compose file sets it to consul:8500).

template {
  source      = "/etc/legate/haproxy.cfg.mustache"
  destination = "/etc/haproxy/haproxy.cfg"
  perms       = 0644
  # A rendered file is installed only when HAProxy accepts it.
  check       = "haproxy -c -q -f {{.src}}"
  # The master re-reads the file and starts new workers; the old ones
  # finish their connections (see hard-stop-after in the template).
  # HAProxy starts only after the first install; a reload before then
  # succeeds with nothing to do, and HAProxy reads the file when it starts.
  command     = ["legate-init", "ctl", "reload", "haproxy"]
  # Changes closer together than 100 ms make one reload; a steady stream of
  # changes still reloads at least once a second.
  wait        = "100ms:1s"
}
