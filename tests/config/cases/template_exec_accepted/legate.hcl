template {
  contents = "static\n"
  destination = "out"
  exec {
    command = ["sh", "-c", "echo ran >&2"]
    timeout = "10s"
  }
}
