template {
  contents = "[[ key \"x\" ]]\n"
  destination = "out"
  left_delimiter = "[["
  right_delimiter = "]]"
}
