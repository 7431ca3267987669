consul {
  address = "127.0.0.1:8500"
  token   = "..."
}
wait { min = "1s" max = "5s" }
etcd { address = "127.0.0.1:2379" }
log_level   = "info"
status_addr = ":9000"
max_stale = "2s"
pid_file = "/run/legate.pid"
ready_file = "/run/legate.ready"
template {
  source          = "/etc/legate/haproxy.cfg.mustache"
  destination     = "/etc/haproxy/haproxy.cfg"
  check           = "haproxy -c -q -f {{.src}}"
  check_timeout   = "10s"
  command         = ["legate-init", "ctl", "reload", "haproxy"]
  command_timeout = "30s"
  perms           = 0644
  user            = "haproxy"
  group           = "0"
  backup          = true
  create_dest_dirs = false
  wait            = "500ms:2s"
  escape          = "config"
  strict          = true
  partials        = "/etc/legate/partials"
}
