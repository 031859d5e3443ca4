# LearnFlow: `make run` serves on http://127.0.0.1:$${PORT:-8000}; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
NPM := $(shell command -v npm 2>/dev/null)
FRONTEND_DEPS := frontend/node_modules/.package-lock.json
FRONTEND_BUILD := frontend/dist/index.html
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/index.html frontend/package.json frontend/tsconfig.json frontend/vite.config.ts

.PHONY: install install-dev frontend-build run test test-frontend test-faults lint typecheck importlint check ci clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

# npm ci rewrites node_modules/.package-lock.json, so it stands for "dependencies match the lockfile".
$(FRONTEND_DEPS): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

$(FRONTEND_BUILD): $(FRONTEND_DEPS) $(FRONTEND_SOURCES)
	cd frontend && npm run build
	touch $@

ifdef NPM
frontend-build: $(FRONTEND_BUILD)
else
frontend-build:
	@echo "npm not found: skipping the web app build; the API still runs and / explains how to build it."
endif

install: $(STAMP) frontend-build

install-dev: $(DEV_STAMP)

run: install
	$(BIN)/learnflow serve --seed-demo-if-empty

# The end-to-end tests under tests/e2e drive the built app in Chromium; they skip with a reason when
# Node, the build or Chromium is missing, and fail instead when LEARNFLOW_REQUIRE_E2E=1 (as in CI).
test: install-dev frontend-build test-frontend
	$(BIN)/pytest $(PYTEST_ARGS)

test-frontend:
ifdef NPM
	cd frontend && npm test
else
	@if [ "$$LEARNFLOW_REQUIRE_E2E" = 1 ]; then echo "npm not found: cannot run the Vitest tests" >&2; exit 1; fi
	@echo "npm not found: skipping the Vitest tests of the web app."
endif

# Fault injection on a local multi-instance cluster (harness/cluster.py): worker kills during 100k
# heartbeats, a Redis restart under 500 subscribers, a PostgreSQL outage, an api instance killed.
# Figures go to test-artifacts/figures/ (see RELIABILITY.md).
test-faults: install-dev
	$(BIN)/pytest tests/faults $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check app realtime workers harness tests bench

typecheck: install-dev
	$(BIN)/mypy

importlint: install-dev
	$(BIN)/lint-imports

check: lint typecheck importlint

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
