template {
  contents = "static\n"
  destination = "out"
  command = "true"
  exec {
    command = ["true"]
  }
}
