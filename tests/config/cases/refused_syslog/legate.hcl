syslog {
  enabled = true
  facility = "LOCAL5"
}
