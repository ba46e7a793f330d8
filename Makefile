# Two commands matter: `make demo` and `make test`. Everything else is a building block.
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export KVMOPS_PYTHON := $(VENV)/bin/python
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
PYTEST := $(VENV)/bin/python -m pytest

.PHONY: setup demo test test-unit test-sanity test-lint test-docs test-integration changelog-lint build clean

setup:
	scripts/bootstrap.sh

# the main job, on the local lab (two namespaced hypervisor hosts and NFS storage; `make lab-down` removes it)
demo: setup
	$(VENV)/bin/python tests/lab/kvmlab up --hosts 2 --storage
	ansible-playbook -i "$$($(VENV)/bin/python tests/lab/kvmlab inventory)" playbooks/demo.yml

test: setup
	$(MAKE) --no-print-directory test-unit test-sanity test-lint test-docs test-integration

test-unit:
	$(PYTEST) -q tests/unit

test-sanity:
	scripts/sanity.sh

test-lint:
	ansible-lint --profile production
	antsibull-changelog lint

# docs lint (antsibull-docs) and the docs site (antsibull-docs + Sphinx, offline, warnings are errors) in .build/docs
test-docs:
	scripts/docs_site.sh .build/docs

test-integration:
	$(PYTEST) -q tests/integration

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
