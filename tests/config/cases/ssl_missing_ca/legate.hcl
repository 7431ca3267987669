consul {
  ssl {
    enabled = true
    ca_cert = "/nonexistent/ca.pem"
  }
}
