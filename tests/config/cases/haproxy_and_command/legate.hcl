template {
  source = "t.mustache"
  destination = "haproxy.cfg"
  command = "systemctl reload haproxy"
  haproxy {
    master_socket = "/run/m.sock"
  }
}
