# `make run` serves the embedded default; `make test` runs every test on real servers; `make lint` checks the code.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP_FLAGS ?= --disable-pip-version-check -q

.PHONY: run test lint release up clean system-deps

# The venv carries no pip or setuptools of its own (27 MB) when the interpreter that makes it has a pip that
# can install into another environment (pip >= 22.3, --python); otherwise it gets its own (ensurepip).
PIP = $(shell $(PYTHON) -m pip --python $(BIN)/python --version >/dev/null 2>&1 \
	&& echo "$(PYTHON) -m pip --python $(BIN)/python" || echo "$(BIN)/python -m pip")

$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(BIN)/python --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip -q

# Serving needs only production's packages and the embedded database; the test tools come with `make test`.
$(VENV)/.run-installed: requirements.txt requirements-run.txt | $(BIN)/python
	$(PIP) install $(PIP_FLAGS) --no-compile -r requirements-run.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements-dev.txt
	$(PIP) install $(PIP_FLAGS) -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(VENV)/.run-installed
	$(BIN)/python chat.py

# redis-server (and, for the browser tests, chromium) from Debian when missing.
system-deps:
	@bash .ci/system-deps

test: $(VENV)/.dev-installed system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed system-deps node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	npx --no-install eslint static tests/js eslint.config.js

# The Procfile's processes with local Redis, SecantusDB and S3 (moto): the production shape on one machine.
up: $(VENV)/.dev-installed system-deps
	$(BIN)/python -m scripts.up

release: $(VENV)/.run-installed
	$(BIN)/python chat.py release

clean:
	rm -rf $(VENV) var .pytest_cache node_modules
