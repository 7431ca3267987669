# make demo-scale N=5: the running `make demo` gets N nginx backends (it
# finds the demo through build/demo/state).
N ?= 3
.PHONY: demo-scale
demo-scale:
	@LEGATE_ROOT=$(CURDIR) LEGATE_BIN=$(CURDIR)/$(BINDIR) scripts/demo.sh scale $(N)
