# consul-template style
consul {
  address = "127.0.0.1:8501"
  token   = "t0k"
  ssl { enabled = true
 verify = false ca_cert = "/ca.pem" }
}
log_level = "debug"
wait { min = "1s" max = "3s" }
/* two templates */
template {
  source      = "/etc/legate/haproxy.cfg.mustache"
  destination = "/etc/haproxy/haproxy.cfg"
  command     = ["legate-init", "ctl", "reload", "haproxy"]
  perms       = 0640
  backup      = true
  wait        = "500ms:2s"
}
template {
  contents    = <<EOF
maxconn {{key.config/maxconn}}
EOF
  destination = "/tmp/x"
  escape      = "none"
}
