consul {
  max_connections = 0
}
