# snapscope: two commands on a fresh machine.
#   make demo   environment, JS bundle, database, simulated survey, JupyterLab on the tour
#   make test   everything missing is installed, then every test (JS, Python, DB, browser, notebooks)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON_BASE := $(shell tools/find-python.sh)
EXTRAS ?= test,sim,dask,roman,parquet,embedded
BUNDLE := src/snapscope/static/widget.js
JS_SOURCES := $(shell find js/src -type f 2>/dev/null)
PYTEST_ARGS ?=

.PHONY: test demo env js system-deps pytest jstest bench clean

env: $(VENV)/.stamp
$(VENV)/.stamp: pyproject.toml
	@echo "==> Python environment ($(PYTHON_BASE))"
	@test -x $(PY) || $(PYTHON_BASE) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	@touch $@

node_modules/.stamp: package.json package-lock.json
	@echo "==> JS dependencies (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

js: $(BUNDLE)
$(BUNDLE): node_modules/.stamp build.mjs $(JS_SOURCES)
	@echo "==> JS bundle"
	@npm run --silent build

system-deps:
	@tools/system-deps.sh

jstest: node_modules/.stamp
	@npm test --silent

pytest: env js
	@$(PY) -m pytest $(PYTEST_ARGS) tests

test: system-deps env js jstest pytest

demo: system-deps env js
	@$(VENV)/bin/snapscope demo

bench: env js
	@for b in benchmarks/*.py; do echo "==> $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules $(BUNDLE) build *.egg-info src/*.egg-info
