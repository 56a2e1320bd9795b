# Parley: `make run` serves the embedded mode, `make test` runs the suite.
# Every target installs what it needs into .venv (pinned requirements).

PYTHON ?= python3
PORT ?= 8000
HOST ?= 127.0.0.1
WEB_CONCURRENCY ?= 2
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: run serve serve-prod worker migrate test test-host test-slow test-browser lint format typecheck bench bench-full bench-ops bench-search clean install install-dev

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Parley needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

migrate: install
	$(PY) manage.py migrate --noinput

## Embedded mode: SQLite (WAL) under var/, in-memory channel layer, one process.
run: migrate
	@echo "Parley on http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"
	$(BIN)/uvicorn server.asgi:application --host $(HOST) --port $(PORT) --ws-ping-interval 20 --ws-ping-timeout 20 --ws-max-size 1048576 --lifespan off --no-server-header

## Production mode: PostgreSQL + Redis, WEB_CONCURRENCY worker processes.
serve-prod: install
	PARLEY_ENV=production $(PY) manage.py check --deploy --fail-level ERROR
	PARLEY_ENV=production $(PY) manage.py migrate --noinput
	PARLEY_ENV=production $(PY) manage.py collectstatic --noinput -v0
	PARLEY_ENV=production $(BIN)/gunicorn server.asgi:application -c server/gunicorn.py

## The notification worker (docs/notifications.md): webhooks and Web Push from the outbox.
## Its own process, beside `make run` or `make serve-prod` (same environment); any number.
worker: install
	$(PY) manage.py parley_worker

test: install-dev
	$(BIN)/pytest -q -n $${PYTEST_WORKERS:-2} -m "not slow"
	$(MAKE) --no-print-directory test-host

## The seed contract (REST and socket) and the host's own tests against examples/host:
## Parley as a reusable app on a UUID/email user model with the host's own tokens.
HOST_SUITE := tests/host tests/test_user_lifecycle.py tests/test_blocks.py tests/test_contract_seed.py tests/test_websocket.py tests/test_ws_smoke.py tests/test_ws_legacy.py \
	tests/test_ws_handshake.py tests/test_frames.py tests/test_membership_rule.py \
	tests/test_chat_features.py tests/test_chat_features_ws.py tests/test_member_state.py tests/test_search.py
test-host: install-dev
	$(BIN)/pytest -q -n $${PYTEST_WORKERS:-2} --ds=examples.host.settings -m "not slow and not standalone" $(HOST_SUITE)

test-browser: install-dev
	$(BIN)/pytest -q -m browser tests/browser

## Fault, load and fuzz runs (live servers, private Redis/PostgreSQL, schemathesis):
## figures in tests/artifacts/security-figures.json, promises in docs/security.md.
test-slow: install-dev
	$(BIN)/pytest -q -m slow -rxXs

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install-dev
	$(PY) -m pip install --quiet -r bench/requirements.txt
	$(PY) -m bench --quick

bench-full: install-dev
	$(PY) -m pip install --quiet -r bench/requirements.txt
	$(PY) -m bench --full

## Operations figures (docs/operations.md): instrumentation cost, S3 stream vs presigned redirect.
bench-ops: install-dev
	$(PY) -m bench.ops instrumentation
	$(PY) -m bench.ops attachments

## Search latency (bench/README.md#search): 10^5 then 10^6 messages, PostgreSQL and SQLite.
bench-search: install-dev
	$(PY) -m bench.search

clean:
	rm -rf $(VENV) var/test-*.sqlite3*
