# MEC-Pool.  `make` sets everything up and builds every charm and package into build/;
# `make test` runs the tests.  SITE selects the site file (default: site.yaml, else the example).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SITE ?= $(firstword $(wildcard site.yaml) site.example.yaml)
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: all deps venv build validate test test-fast testbed vdu-lab bench-build bench-testbed \
        openstack-prepare onboard instantiate scale-out scale-in pool-status status teardown \
        juju-status failed-actions clean

all: build

deps:
	@bash scripts/install-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,openstack,juju]'
	@rm -f $(VENV)/.installed-* && touch $@

venv: deps $(STAMP)

build: venv
	$(BIN)/mecpool build --site $(SITE)
	$(BIN)/python -m mecpool.rsplibfix

test: build
	$(BIN)/pytest $(PYTEST_ARGS)

# Everything but the tests that boot the RSPLIB testbed or the VDU lab's VMs.
test-fast: venv
	$(BIN)/pytest -m "not testbed and not vdulab" $(PYTEST_ARGS)

# Boot the site's registrar, pool element and EPC VDUs as QEMU VMs from the user data OSM R8 and
# Nova would deliver; the image and package mirror are cached in $$MECPOOL_CACHE (~/.cache/mecpool).
vdu-lab: build
	$(BIN)/mecpool vdu-lab --site $(SITE)

testbed: venv
	$(BIN)/mecpool testbed run --profile quick

bench-build: venv
	$(BIN)/python scripts/bench-build.py --site $(SITE)

bench-testbed: venv
	$(BIN)/python scripts/bench-testbed.py

# Day 0-2 on a real OSM Release EIGHT + OpenStack (see README).  NS and GROUP are required where used.
openstack-prepare: venv
	$(BIN)/mecpool openstack-prepare --site $(SITE)

onboard: build
	$(BIN)/mecpool onboard --site $(SITE)

instantiate: venv
	$(BIN)/mecpool instantiate --site $(SITE) --ns-name $(NS) --wait

scale-out: venv
	$(BIN)/mecpool scale-pe $(NS) --site $(SITE) --group $(GROUP) --out --wait

scale-in: venv
	$(BIN)/mecpool scale-pe $(NS) --site $(SITE) --group $(GROUP) --in --wait

pool-status: venv
	$(BIN)/mecpool pool-status $(NS) --site $(SITE)

status: venv
	$(BIN)/mecpool status $(NS)

teardown: venv
	$(BIN)/mecpool teardown $(NS) --wait

clean:
	rm -rf build

juju-status: venv
	$(BIN)/mecpool juju-status $(NS) --site $(SITE)

failed-actions: venv
	$(BIN)/mecpool failed-actions $(NS) --site $(SITE)
