reload_signal = "SIGUSR2"
