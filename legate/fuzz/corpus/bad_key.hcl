consul {
  adress = "x"
}
