frobnicate = 1
