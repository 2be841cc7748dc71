# snapscope: two commands on a fresh machine.
#   make demo   environment, JS bundle, database, simulated survey, JupyterLab on the tour
#   make test   everything missing is installed, then every test (JS, Python, DB, browser, notebooks)
#
# The Python environment is installed from requirements/lock.txt (exact versions with hashes,
# resolved by `make lock` from pyproject.toml), so every machine tests the same libraries.
# `make test-latest` (= `make test LOCK=0`) tests the newest versions pyproject.toml allows
# instead, in .venv-latest: a new release is met as a deliberate upgrade (`make lock`).
SHELL := /bin/bash
comma := ,
LOCK ?= 1
VENV := $(if $(filter 0,$(LOCK)),.venv-latest,.venv)
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
PYTHON_BASE := $(shell tools/find-python.sh)
LOCKFILE := requirements/lock.txt
BINDER_LOCK := binder/requirements.txt
# uv itself comes at the version the lock pins (it is in the test extra)
UV_PIN := $(shell grep -m1 -oE '^uv==[0-9.]+' $(LOCKFILE))
# every extra (`make lock` resolves them all); Binder installs BINDER_EXTRAS + JupyterLab
BINDER_EXTRAS := progress,colormaps,diff,sim,dask,parquet,embedded
BUNDLES := $(addprefix src/snapscope/static/,widget.js datatable.js thumbnails.js)
JS_SOURCES := $(shell find js/src -type f 2>/dev/null)
PYTEST_ARGS ?=

.PHONY: test test-latest demo env lock js system-deps pytest jstest bench bench-scale clean

env: $(VENV)/.stamp
$(VENV)/.stamp: pyproject.toml $(LOCKFILE)
	@echo "==> Python environment $(VENV) ($(PYTHON_BASE), $(if $(filter 0,$(LOCK)),newest allowed versions,$(LOCKFILE)))"
	@test -x $(PY) || $(PYTHON_BASE) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check "$(UV_PIN)"
ifeq ($(LOCK),0)
	@$(UV) pip install -q --python $(PY) --upgrade -e ".[all,test]"
else
	@$(UV) pip sync -q --python $(PY) --require-hashes $(LOCKFILE)
	@SKIP_JUPYTER_BUILDER=1 $(UV) pip install -q --python $(PY) --no-deps -e .
endif
	@touch $@

# Re-resolve the lock files from pyproject.toml (newest allowed versions, Python 3.11 and up).
lock: $(VENV)/.stamp
	@$(UV) pip compile -q --universal --python-version 3.11 --generate-hashes --no-header \
	  --all-extras pyproject.toml -o $(LOCKFILE)
	@$(UV) pip compile -q --universal --python-version 3.11 --generate-hashes --no-header \
	  $(foreach e,$(subst $(comma), ,$(BINDER_EXTRAS)),--extra $(e)) pyproject.toml binder/requirements.in \
	  -c $(LOCKFILE) -o $(BINDER_LOCK)
	@echo "==> $(LOCKFILE) and $(BINDER_LOCK) re-resolved; run make test"

node_modules/.stamp: package.json package-lock.json
	@echo "==> JS dependencies (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

js: $(BUNDLES)
$(BUNDLES) &: node_modules/.stamp build.mjs $(JS_SOURCES)
	@echo "==> JS bundles"
	@npm run --silent build

system-deps:
	@tools/system-deps.sh

jstest: node_modules/.stamp
	@npm test --silent

pytest: env js
	@$(if $(filter 0,$(LOCK)),SNAPSCOPE_LATEST=1) $(PY) -m pytest $(PYTEST_ARGS) tests

test: system-deps env js jstest pytest

test-latest:
	@$(MAKE) --no-print-directory test LOCK=0

demo: system-deps env js
	@$(VENV)/bin/snapscope demo

bench: env js
	@for b in benchmarks/[!_]*.py; do echo "==> $$b"; $(PY) $$b || exit 1; done

# Survey scale (issue 12). The catalogue: 10 M rows saved into an embedded PostgreSQL in a
# temporary directory (~10 GB, removed at the end; ~20 min on 2 cores), searched, then shared
# by 16 client processes. Then batch work over 1000 images (~15 min, ~5 GB of sparse image
# copies written once into benchmarks/_data/).
bench-scale: env js
	@d=$$(mktemp -d /tmp/snapscope-scale-XXXXXX); \
	trap 'SNAPSCOPE_DATA=$$d $(VENV)/bin/snapscope db stop >/dev/null; rm -rf $$d' EXIT; \
	echo "==> benchmarks/db.py --rows 10000000" && \
	$(PY) benchmarks/db.py --rows 10000000 --data $$d --keep && \
	echo "==> benchmarks/db_load.py --clients 16" && \
	$(PY) benchmarks/db_load.py --data $$d --rows 10000000 --clients 16 --seconds 60
	@echo "==> benchmarks/batch.py --images 1000"
	$(PY) benchmarks/batch.py --images 1000

clean:
	rm -rf .venv .venv-latest node_modules $(BUNDLES) build dist *.egg-info src/*.egg-info
