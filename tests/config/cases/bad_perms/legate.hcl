template {
  source = "t.mustache"
  destination = "out"
  perms = "rw-r--r--"
}
