# BitMesh — the two commands that matter: `make demo` and `make test`.
SHELL := /bin/bash
NODE ?= node
export NODE_OPTIONS ?=

.PHONY: all deps build test unit hw-test typecheck demo bench fuzz clean

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

build: deps
	$(NODE) scripts/build.mjs

typecheck: deps
	npx tsc --noEmit

# Unit tests always; hw-test/ suites skip themselves with a message when not root.
test: deps typecheck build
	npx vitest run

demo: build
	$(NODE) scripts/demo.mjs $(DEMO_ARGS)

bench: build
	$(NODE) scripts/bench/run.mjs

clean:
	rm -rf dist
