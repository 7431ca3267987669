template {
  source = "t.mustache"
  destination = "out"
  escape = "xml"
}
