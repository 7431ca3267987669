consul {
  retry {
    enabled = true
    attempts = -3
  }
}
