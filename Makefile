# Two commands: `make run` serves the embedded default; `make test` runs every test on real servers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP_FLAGS ?= --disable-pip-version-check -q

.PHONY: run test release up clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/python chat.py

# redis-server (and, for the browser tests, chromium) from Debian when missing.
system-deps:
	@bash .ci/system-deps

test: $(VENV)/.installed system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The Procfile's processes with local Redis, SecantusDB and S3 (moto): the production shape on one machine.
up: $(VENV)/.installed system-deps
	$(BIN)/python scripts/up.py

release: $(VENV)/.installed
	$(BIN)/python chat.py release

clean:
	rm -rf $(VENV) var .pytest_cache
