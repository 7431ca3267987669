template {
  source = "t.mustache"
  destination = "out"
  command = []
}
