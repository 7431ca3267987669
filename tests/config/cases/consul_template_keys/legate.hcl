vault {
  address = "https://vault:8200"
}
syslog {
  enabled = true
}
template {
  contents = "static\n"
  destination = "out"
  left_delimiter = "[["
}
