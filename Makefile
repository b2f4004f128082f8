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

# --accept-incomplete: the reference stacks still install three remote components (Helm v4 chart,
# Helm v3 release, a yaml/v2 ConfigFile from a URL) the offline preview cannot expand (exit 3); they are
# listed in the report. Drop the flag once they are vendored manifests.
preview: $(STAMP)
	$(BIN)/cdb preview --stack $(STACK) --accept-incomplete

test: $(STAMP)
	VENV=$(VENV) bash scripts/ensure-test-servers.sh
	$(BIN)/python -m pytest

clean-venv:
	rm -rf $(VENV)
