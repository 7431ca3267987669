vault { address = "https://vault:8200" }
syslog { enabled = true }
kill_signal = "SIGINT"
consul {
  address = "c:8500"
  retry { attempts = 12 }
}
etcd {
  address = "127.0.0.1:2379"
  v2 = true
}
template {
  source = "a.ctmpl"
  destination = "a"
  left_delimiter = "[["
  error_on_missing_key = true
}
