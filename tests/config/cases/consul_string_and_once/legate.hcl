consul = "127.0.0.1:1"
once = true
template {
  contents = "static\n"
  destination = "out"
}
