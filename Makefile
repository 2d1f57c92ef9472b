# Every target makes .venv with the machine's python3 when it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
NODE_STAMP := tests/interop/node_modules/.installed
# The oldest IPython pyproject.toml allows (its "ipython>=X" floor), in a second venv: the
# non-browser tests run there too, so that the IPython internals we touch are checked at both ends.
OLDEST_IPYTHON := $(shell sed -n 's/^ *"ipython>=\([0-9.]*\)".*/\1/p' pyproject.toml)
# and the oldest python-dotenv (1.0.x reads a byte order mark into the first key: we must not care)
OLDEST_DOTENV := $(shell sed -n 's/^ *"python-dotenv>=\([0-9.]*\)".*/\1/p' pyproject.toml)
OLD_VENV  := .venv-oldest
OLD_PY    := $(OLD_VENV)/bin/python
OLD_STAMP := $(OLD_VENV)/.installed

DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: demo test test-oldest bench lab lint venv venv-oldest node chromium clean docs

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(STAMP)

$(OLD_STAMP): pyproject.toml Makefile
	@test -n "$(OLDEST_IPYTHON)" || { echo "no ipython>= floor found in pyproject.toml"; exit 1; }
	@test -x $(OLD_PY) || $(PYTHON) -m venv $(OLD_VENV)
	$(OLD_PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(OLD_PY) -m pip install -q --disable-pip-version-check -e '.[dev]' 'ipython==$(OLDEST_IPYTHON)' \
		'python-dotenv==$(OLDEST_DOTENV)'
	@touch $@

venv-oldest: $(OLD_STAMP)

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
	$(VENV)/bin/lint-imports

test: venv node chromium lint docs test-oldest
	UE_DOCS_HTML=build/docs/html $(PY) -m pytest

# The non-browser tests against the oldest IPython allowed (fails if that is not what got installed).
test-oldest: venv-oldest node
	$(OLD_PY) -c 'import IPython, sys; v = IPython.__version__; print("IPython", v); \
		sys.exit(v.split(".")[:2] != "$(OLDEST_IPYTHON)".split(".")[:2])'
	$(OLD_PY) -m pytest -q -m "not browser" -p no:cacheprovider

$(DOCS_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check --group docs
	@touch $@

# The documentation site, warnings as errors, into build/docs/html (the quickstart runs against the sandbox).
docs: $(DOCS_STAMP)
	$(PY) -m sphinx -E -W --keep-going -q -b html docs build/docs/html

bench: venv
	$(PY) benchmarks/bench.py

lab: venv
	$(PY) scripts/lab.py

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
