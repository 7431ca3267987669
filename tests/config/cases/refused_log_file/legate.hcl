log_level = "info"
log_file {
  path = "/var/log/legate.log"
}
