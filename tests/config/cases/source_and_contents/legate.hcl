template {
  source = "t.mustache"
  contents = "x"
  destination = "out"
}
