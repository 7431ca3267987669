consul {
  ssl {
    enabled = true
    pinned = true
  }
}
