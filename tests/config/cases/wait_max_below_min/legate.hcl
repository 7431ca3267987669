wait {
  min = "5s"
  max = "1s"
}
