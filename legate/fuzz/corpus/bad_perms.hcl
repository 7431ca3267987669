template {
  source = "a"
  perms = 999
}
