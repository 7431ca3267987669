template {
  source = "t.mustache"
  destination = "out"
  backup = "yes"
}
