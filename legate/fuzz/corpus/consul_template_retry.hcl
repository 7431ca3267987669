consul = "127.0.0.1:8500"
once = true
block_query_wait = "30s"
consul {
  token_file = "/dev/null"
  retry { enabled = true attempts = 3 backoff = "100ms" max_backoff = "2s" }
  auth { enabled = true username = "u" password = "p" }
  ssl { enabled = true server_name = "consul.test" ca_path = "/" }
}
syslog { enabled = false }
kill_signal = "SIGTERM"
template {
  contents = "{{key.a}}"
  destination = "out"
  uid = 0
  error_on_missing_key = true
  exec { command = ["true"] timeout = "5s" }
}
