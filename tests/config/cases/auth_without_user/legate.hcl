consul {
  auth {
    enabled = true
    password = "x"
  }
}
