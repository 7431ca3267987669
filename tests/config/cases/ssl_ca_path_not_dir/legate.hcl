consul {
  ssl {
    ca_path = "legate.hcl"
  }
}
