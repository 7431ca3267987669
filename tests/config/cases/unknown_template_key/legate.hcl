template {
  source = "t.mustache"
  destination = "out"
  colour = "blue"
}
