consul {
  address = "127.0.0.1:1"
  namespace = "team-a"
}
