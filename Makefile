# BitMesh — the two commands that matter: `make demo` and `make test`.
# Each installs what it needs (npm ci) on a fresh machine with Node 20 and npm.
SHELL := /bin/bash
NODE ?= node

.PHONY: all deps build test typecheck demo bench clean helper helper-asan fuzz ipk firmware

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

build: deps
	$(NODE) scripts/build.mjs

typecheck: deps
	npx tsc --noEmit

# Unit tests in parallel, then the system tests in hw-test/ one file at a time (they
# time real processes and namespaces; on two cores they must not starve each other).
# hw-test/ suites that need root skip with a message when not root.
# The last line is the totals: `N passed, N failed, N skipped`.
test: deps typecheck
	@rc=0; npx vitest run src/ scripts/ --reporter=default --reporter=json --outputFile=.vitest-unit.json || rc=$$?; \
	  npx vitest run hw-test/ --no-file-parallelism --reporter=default --reporter=json --outputFile=.vitest-hw.json || rc=$$?; \
	  $(NODE) scripts/testing/totals.mjs .vitest-unit.json .vitest-hw.json; exit $$rc

# A paid market on loopback: 3 gateways, 3 clients, a devchain; no root. DEMO_ARGS=--json for a summary.
# NFT=1 (root): the same market with agents in nft mode in network namespaces.
demo: build
	$(NODE) scripts/demo.mjs $(if $(filter-out 0,$(NFT)),--nft) $(DEMO_ARGS)

bench: build
	$(NODE) scripts/bench/run.mjs $(BENCH_ARGS)

# OpenWrt packages without the SDK (bitmesh_<version>-r<N>_all.ipk, luci-app-bitmesh),
# and a firmware image: make firmware IB=<image builder dir> PROFILE=<device> [ROLE=gateway|client]
ipk: build
	$(NODE) scripts/build-ipk.mjs

firmware: ipk
	sh firmware/build.sh "$(IB)" "$(PROFILE)" "$(ROLE)"

# The native crypto helper (C, libsecp256k1): built here against Debian's
# libsecp256k1-dev; the OpenWrt package builds it with the SDK (docs/helper.md).
helper:
	$(MAKE) -C packages-openwrt/bitmesh-helper/src

helper-asan:
	$(MAKE) -C packages-openwrt/bitmesh-helper/src asan

fuzz:
	$(MAKE) -C packages-openwrt/bitmesh-helper/src fuzz FUZZ_TIME=$(or $(FUZZ_TIME),60)

clean:
	rm -rf dist .vitest-unit.json .vitest-hw.json
	$(MAKE) -C packages-openwrt/bitmesh-helper/src clean
