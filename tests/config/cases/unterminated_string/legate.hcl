log_level = "info
