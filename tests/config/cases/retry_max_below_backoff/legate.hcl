consul {
  retry {
    backoff = "2s"
    max_backoff = "1s"
  }
}
