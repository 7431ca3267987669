template {
  source = "t.mustache"
  destination = "haproxy.cfg"
  haproxy {
    master_socket = "/run/m.sock"
    socket = "/run/a.sock"
  }
}
