template {
  source = "t.mustache"
  destination = "haproxy.cfg"
  haproxy {
    drain_timeout = "5s"
  }
}
