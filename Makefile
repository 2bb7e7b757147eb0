# MEC-Pool.  `make` sets everything up and builds every charm and package into build/;
# `make test` runs the tests.  SITE selects the site file (default: site.yaml, else the example).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SITE ?= $(firstword $(wildcard site.yaml) site.example.yaml)
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: all deps venv build validate test test-fast testbed vdu-lab real-lab real-lab-stack real-lab-osm bench-build bench-testbed \
        deploy-tools openstack-prepare onboard instantiate scale-out scale-in pool-status status teardown \
        teardown-all juju-status failed-actions clean

all: build

deps:
	@bash scripts/install-deps.sh

# Deploy-only machine: the CLI with python-openstackclient and libjuju, no QEMU, kernels or test stack
# (system packages: python3-venv, git, and gcc for the PEs' librspfreshload).  The tools land in .venv/bin.
DEPLOY_STAMP := $(VENV)/.deploy-$(shell sha1sum pyproject.toml | cut -c1-12)

deploy-tools: $(DEPLOY_STAMP)

$(DEPLOY_STAMP): pyproject.toml
	@bash scripts/install-deps.sh --deploy
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[deploy]'
	@rm -f $(VENV)/.deploy-* && touch $@

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,openstack,juju]'
	@rm -f $(VENV)/.installed-* && touch $@

venv: deps $(STAMP)

# The packages carry librspfreshload (rsplib.freshload); its build and glibc 2.27 check come first.
build: venv
	$(BIN)/python -m mecpool.rsplibfix
	$(BIN)/mecpool build --site $(SITE)

test: build
	$(BIN)/pytest -m "not reallab" $(PYTEST_ARGS)

# Everything but the tests that boot the RSPLIB testbed or the VDU lab's VMs.
test-fast: venv
	$(BIN)/pytest -m "not testbed and not vdulab and not reallab" $(PYTEST_ARGS)

# Boot the site's registrar, pool element and EPC VDUs as QEMU VMs from the user data OSM R8 and
# Nova would deliver; the image and package mirror are cached in $$MECPOOL_CACHE (~/.cache/mecpool).
vdu-lab: build
	$(BIN)/mecpool vdu-lab --site $(SITE)

# The real OpenStack (Zed, Debian's packages) in private namespaces, proved by its smoke path: a Nova
# server from the VDU lab's image with config drive and user data, SSH, cloud-init (docs/real-lab.md).
# Package tree and database dump are cached in $$MECPOOL_CACHE.  `make real-lab` runs the runbook against it.
real-lab-stack: venv
	@bash scripts/install-deps.sh --real-lab
	$(BIN)/mecpool real-lab --stack-only

# The stack with OSM Release EIGHT's own RO, NBI and LCM (v8.0 from $$MECPOOL_OSM_SOURCES, default
# ../shared/vendor/osm-release-eight; Python 3.6.15 venvs cached in $$MECPOOL_CACHE), proved by
# osmclient: osm version, vim-create to ENABLED, vim-list, vim-delete (docs/real-lab.md).
real-lab-osm: venv
	@bash scripts/install-deps.sh --real-lab
	$(BIN)/mecpool real-lab --osm-only

# The operator's runbook, unchanged, against that stack and OSM R8's own LCM and RO: openstack-prepare,
# build, onboard, instantiate --wait (charms through LCM with the lab's SSH VCA), status, pool-status,
# pool users, pe-action, the security group probe, scale-pe --out/--in, teardown --all; result.json in
# build/real-lab, the per-VM table in build/real-lab/osm/ns-vms.md (docs/real-lab.md).  An hour or more.
real-lab: build
	@bash scripts/install-deps.sh --real-lab
	$(BIN)/mecpool real-lab --osm-only --runbook

testbed: venv
	$(BIN)/mecpool testbed run --profile quick

bench-build: venv
	$(BIN)/python scripts/bench-build.py --site $(SITE)

bench-testbed: venv
	$(BIN)/python scripts/bench-testbed.py

# Day 0-2 on a real OSM Release EIGHT + OpenStack (see README).  NS and GROUP are required where used;
# DRY_RUN=1 adds --dry-run.  These need only `make deploy-tools` (and `make build` for the packages).
need-ns = $(if $(NS),,$(error NS is not set: make $@ NS=<name of the NS instance>))
need-group = $(if $(GROUP),,$(error GROUP is not set: make $@ NS=$(or $(NS),<ns>) GROUP=<PE group of the site>))
DRY := $(if $(DRY_RUN),--dry-run)
MECPOOL_CLI = $(if $(wildcard $(BIN)/mecpool),$(BIN)/mecpool,$(error $(BIN)/mecpool is missing: run make deploy-tools (or make)))

openstack-prepare:
	$(MECPOOL_CLI) openstack-prepare --site $(SITE) $(DRY)

onboard:
	$(MECPOOL_CLI) onboard --site $(SITE) $(DRY)

instantiate:
	$(need-ns)$(MECPOOL_CLI) instantiate $(NS) --site $(SITE) --wait $(DRY)

scale-out:
	$(need-ns)$(need-group)$(MECPOOL_CLI) scale-pe $(NS) --site $(SITE) --group $(GROUP) --out --wait $(DRY)

scale-in:
	$(need-ns)$(need-group)$(MECPOOL_CLI) scale-pe $(NS) --site $(SITE) --group $(GROUP) --in --wait $(DRY)

pool-status:
	$(need-ns)$(MECPOOL_CLI) pool-status $(NS) --site $(SITE) $(DRY)

status:
	$(need-ns)$(MECPOOL_CLI) status $(NS) --site $(SITE) $(DRY)

teardown:
	$(need-ns)$(MECPOOL_CLI) teardown $(NS) --site $(SITE) --wait $(DRY)

teardown-all:
	$(need-ns)$(MECPOOL_CLI) teardown $(NS) --site $(SITE) --all $(DRY)

clean:
	rm -rf build

juju-status:
	$(need-ns)$(MECPOOL_CLI) juju-status $(NS) --site $(SITE) $(DRY)

failed-actions:
	$(need-ns)$(MECPOOL_CLI) failed-actions $(NS) --site $(SITE) $(DRY)
