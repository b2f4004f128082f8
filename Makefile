# Two entry points for a fresh machine: `make preview` (the main job) and `make test`.
# Each creates the virtual environment when missing and installs the pinned dependencies.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
STACK  ?= dev
# bash with pipefail: a failing pip must fail the target even when its output goes through a filter.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

.PHONY: preview test install policies clean-venv

# pip prints each package it collects: the first run takes minutes and must not look stuck.
$(STAMP): pyproject.toml policy_pack/requirements.txt
	@echo "make: setting up $(VENV) with the pinned dependencies (first run: a few minutes)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off -e '.[dev]' \
		| { grep --line-buffered -E '^(Collecting|Installing|Successfully)' || true; }
	@touch $(STAMP)

install: $(STAMP)

preview: $(STAMP)
	$(BIN)/cdb preview --stack $(STACK)

test: $(STAMP)
	VENV=$(VENV) bash scripts/ensure-test-servers.sh
	$(BIN)/python -m pytest

clean-venv:
	rm -rf $(VENV)
