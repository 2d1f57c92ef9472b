# Every target makes .venv with the machine's python3 when it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
DOCS_STAMP := $(VENV)/.installed-docs
NODE_STAMP := tests/interop/node_modules/.installed
PIP := -m pip install -q --disable-pip-version-check
# Every user-facing extra; the development tools are dependency groups (pip >= 25.1: pip is
# upgraded first in each venv).
EXTRAS := .[sandbox,openapi,demo,explore]

# The other Pythons the package claims, from pyenv when present (or PY310=/path make ...).
PY310 ?= $(firstword $(wildcard /root/.pyenv/versions/3.10.*/bin/python3.10) $(shell command -v python3.10))
PY313 ?= $(firstword $(wildcard /root/.pyenv/versions/3.13.*/bin/python3.13) $(shell command -v python3.13))

# make test-oldest: Python 3.10 with every direct dependency at the floor pyproject.toml gives it
# (scripts/floors.py), so that the floors are true.
OLD_VENV  := .venv-oldest
OLD_PY    := $(OLD_VENV)/bin/python
OLD_STAMP := $(OLD_VENV)/.installed
# make test-py313: Python 3.13 with the newest dependencies.
NEW_VENV  := .venv-py313
NEW_PY    := $(NEW_VENV)/bin/python
NEW_STAMP := $(NEW_VENV)/.installed
# The non-browser suite, as the other Pythons run it.
NON_BROWSER := -q -m "not browser" -p no:cacheprovider

.PHONY: demo test test-main test-oldest test-py313 fuzz bench lab lint venv venv-oldest \
	venv-py313 node chromium clean docs dist

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) $(PIP) --upgrade pip
	$(PY) $(PIP) -e '$(EXTRAS)' --group dev
	@touch $@

venv: $(STAMP)

$(OLD_STAMP): pyproject.toml Makefile scripts/floors.py
	@test -n "$(PY310)" || echo "NOTE: no Python 3.10 here (set PY310=...): the floors run on $(PYTHON)"
	@test -x $(OLD_PY) || $(or $(PY310),$(PYTHON)) -m venv $(OLD_VENV)
	$(OLD_PY) $(PIP) --upgrade pip
	$(OLD_PY) scripts/floors.py > $(OLD_VENV)/floors.txt
	$(OLD_PY) $(PIP) -c $(OLD_VENV)/floors.txt -e '$(EXTRAS)' --group test
	@touch $@

venv-oldest: $(OLD_STAMP)

$(NEW_STAMP): pyproject.toml Makefile
	@test -x $(NEW_PY) || $(PY313) -m venv $(NEW_VENV)
	$(NEW_PY) $(PIP) --upgrade pip
	$(NEW_PY) $(PIP) --upgrade -e '$(EXTRAS)' --group test
	@touch $@

ifeq ($(PY313),)
venv-py313:
	@echo "SKIPPED: no Python 3.13 here (set PY313=/path/to/python3.13)"
else
venv-py313: $(NEW_STAMP)
endif

# make demo installs only the demo extra, which holds the sandbox and openapi extras (make venv's
# install holds it too).
$(DEMO_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then :; else \
		$(PY) -m pip install -q --disable-pip-version-check -e '.[demo]'; fi
	@touch $@

# npm packages for the interop tests (panva's oidc-provider, httpyac), pinned by package-lock.json.
$(NODE_STAMP): tests/interop/package.json tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Large public OpenAPI descriptions (GitHub's, ReadMe's examples) for tests and benchmarks.
REAL_STAMP := tests/data/openapi-real/node_modules/.installed
$(REAL_STAMP): tests/data/openapi-real/package.json tests/data/openapi-real/package-lock.json
	cd tests/data/openapi-real && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node: $(NODE_STAMP) $(REAL_STAMP)

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

# Everything CI runs (.ci/run): lint and types, the docs site, the package, then the suite on
# three Pythons: 3.11 with everything (browser tests too), 3.10 at the dependency floors, 3.13 at
# the newest, the last two without the browser tests.
test: lint docs dist test-main test-oldest test-py313

# The whole suite on .venv's Python (browser and interop tests too); the docs' browser test reads
# the site make docs built, the package tests the files make dist built.
test-main: venv node chromium docs dist
	UE_DOCS_HTML=build/docs/html UE_DIST=dist $(PY) -m pytest

# The non-browser tests on Python 3.10 with every direct dependency at its floor (fails if that
# is not what got installed).
test-oldest: venv-oldest node dist
	$(OLD_PY) scripts/floors.py --check
	UE_DIST=dist $(OLD_PY) -m pytest $(NON_BROWSER)

# The non-browser tests on Python 3.13 with the newest dependencies.
test-py313: venv-py313 node dist
	@if [ -x $(NEW_PY) ]; then UE_DIST=dist $(NEW_PY) -m pytest $(NON_BROWSER); fi

# The documentation site, warnings as errors, into build/docs/html; the getting-started page runs
# the quickstart notebook against the sandbox.
docs: venv
	$(PY) -m sphinx -E -W --keep-going -q -b html docs build/docs/html

# The sdist and the wheel in dist/, checked as a package index would (twine check --strict).
dist: venv
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*

# The fuzz tests (tests/fuzz) run short and derandomized in make test; this runs them long and
# random (UE_FUZZ=long picks the Hypothesis profile: thousands of examples per test).
fuzz: venv
	UE_FUZZ=long $(PY) -m pytest -q tests/fuzz -p no:cacheprovider --timeout=3600 \
		--hypothesis-show-statistics

bench: venv
	$(PY) benchmarks/bench.py

lab: venv
	$(PY) scripts/lab.py

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
