template {
  contents = "static\n"
  destination = "out"
  exec {
    command = ["true"]
    splay = "5s"
  }
}
