template {
  source = "t.mustache"
  destination = "out"
  check_timeout = "ten seconds"
}
