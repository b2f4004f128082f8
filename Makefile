# Two entry points for a fresh machine: `make preview` (the main job) and `make test`.
# Each creates the virtual environment when missing and installs the pinned dependencies.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
STACK  ?= dev

.PHONY: preview test install policies clean-venv

$(STAMP): pyproject.toml policy_pack/requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

preview: $(STAMP)
	$(BIN)/cdb preview --stack $(STACK)

test: $(STAMP)
	VENV=$(VENV) bash scripts/ensure-test-servers.sh
	$(BIN)/python -m pytest

clean-venv:
	rm -rf $(VENV)
