template {
  source = "t.mustache"
  destination = "haproxy.cfg"
  haproxy {
    master_socket = "${HAPROXY_MASTER_SOCKET"
  }
}
