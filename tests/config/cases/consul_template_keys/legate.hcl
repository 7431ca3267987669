vault {
  address = "https://vault:8200"
}
syslog {
  enabled = false
}
kill_signal = "SIGTERM"
template {
  contents = "static\n"
  destination = "out"
  sandbox_path = "/srv"
}
