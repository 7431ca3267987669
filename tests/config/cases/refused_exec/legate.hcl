exec {
  command = "/usr/bin/app"
}
