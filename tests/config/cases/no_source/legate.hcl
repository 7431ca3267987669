template {
  destination = "out"
}
