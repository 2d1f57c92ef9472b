# Every target makes .venv with the machine's python3 when it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
NODE_STAMP := tests/interop/node_modules/.installed

.PHONY: demo test bench lab lint venv node chromium clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(STAMP)

# make demo installs only the demo extra (the dev extra, if installed, holds it too).
$(DEMO_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then :; else \
		$(PY) -m pip install -q --disable-pip-version-check -e '.[demo]'; fi
	@touch $@

# npm packages for the interop tests (panva's oidc-provider), pinned by package-lock.json.
$(NODE_STAMP): tests/interop/package.json tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node: $(NODE_STAMP)

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
chromium:
	@bash scripts/ensure-chromium.sh

demo: $(DEMO_STAMP)
	@$(PY) scripts/demo.py

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: venv node chromium lint
	$(PY) -m pytest

bench: venv
	$(PY) benchmarks/bench.py

lab: venv
	$(PY) scripts/lab.py

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
