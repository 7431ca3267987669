consul {
  token_file = "/nonexistent/token"
}
