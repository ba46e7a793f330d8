# Two commands matter: `make demo` and `make test`. Everything else is a building block.
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export KVMOPS_PYTHON := $(VENV)/bin/python
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
PYTEST := $(VENV)/bin/python -m pytest

.PHONY: test-molecule setup demo test test-unit test-sanity test-lint test-docs test-integration changelog-lint build clean bench

# every stage prints its wall time ("stage test-integration: 812 s (ok)"); `make test` lists them all at the end
STAGE := $(CURDIR)/scripts/stage.sh

setup:
	@$(STAGE) setup scripts/bootstrap.sh

# the main job, on the local lab (two namespaced hypervisor hosts and NFS storage; `make lab-down` removes it)
demo: setup
	$(VENV)/bin/python tests/lab/kvmlab up --hosts 2 --storage
	ansible-playbook -i "$$($(VENV)/bin/python tests/lab/kvmlab inventory)" -i playbooks/inventory/lab playbooks/demo.yml

test:
	@mkdir -p tests/output; export STAGE_LOG=$(CURDIR)/tests/output/stages.txt; : > $$STAGE_LOG; \
	start=$$(date +%s); status=0; \
	$(MAKE) --no-print-directory setup test-unit test-sanity test-lint test-docs test-integration || status=$$?; \
	echo "== make test: $$(( $$(date +%s) - start )) s ($$([ $$status -eq 0 ] && echo ok || echo FAILED))"; \
	cat $$STAGE_LOG; exit $$status

test-unit:
	@$(STAGE) test-unit "$(PYTEST) -q --durations=25 tests/unit"

test-sanity:
	@$(STAGE) test-sanity scripts/sanity.sh

test-lint:
	@$(STAGE) test-lint "ansible-lint --profile production && antsibull-changelog lint"

# docs lint (antsibull-docs) and the docs site (antsibull-docs + Sphinx, offline, warnings are errors) in .build/docs
test-docs:
	@$(STAGE) test-docs "scripts/docs_site.sh .build/docs"

# two pytest processes side by side (the lab's tests and this machine's), each printing its 25 slowest tests,
# then the 25 slowest of both (tests/integration/parallel.py); INTEGRATION_ARGS=--serial runs them one by one.
# The lab stream includes the four roles' molecule scenarios (~12 min, docs/molecule.md)
INTEGRATION_ARGS ?=
test-integration:
	@$(STAGE) test-integration "$(VENV)/bin/python tests/integration/parallel.py $(INTEGRATION_ARGS)"

# Speed side by side (bench/, docs/benchmarks/*.md + *.png; never part of `make test`): the batch path and
# the peers, a module process's footprint, migration and evacuation, fleet scale, site.yml's second run, the lab's
# own timings.
# They bring up the lab instance KVMLAB_INSTANCE (default 0) and take it down; run them on a quiet machine.
bench: setup
	$(VENV)/bin/python bench/batch_bench.py
	$(VENV)/bin/python bench/migrate_bench.py
	$(VENV)/bin/python bench/fleet_bench.py
	$(VENV)/bin/python bench/site_bench.py
	$(VENV)/bin/python bench/peer_bench.py
	$(VENV)/bin/python bench/lab_bench.py

# the roles' molecule scenarios alone (tests/integration/roles/test_molecule.py, which `make test` runs in the lab
# stream): all four in one molecule run through Mitogen, ~12 min with the lab's boot (docs/molecule.md);
# KVMLAB_INSTANCE picks the lab, KVMOPS_MOLECULE_SCENARIOS=hypervisor,guests runs some
test-molecule: setup
	$(PYTEST) -q -s -p no:cacheprovider tests/integration/roles/test_molecule.py

build:
	ansible-galaxy collection build --force --output-path .build

clean:
	rm -rf .build tests/output .pytest_cache

# The local lab (tests/lab/kvmlab; docs/lab.md). LAB_ARGS, e.g. LAB_ARGS="--hosts 2 --storage --debian-guests 1"
LAB_ARGS ?= --hosts 2 --storage
.PHONY: lab-up lab-down lab-status
lab-up: setup
	$(VENV)/bin/python tests/lab/kvmlab up $(LAB_ARGS)

lab-down:
	$(VENV)/bin/python tests/lab/kvmlab down

lab-status:
	$(VENV)/bin/python tests/lab/kvmlab status
