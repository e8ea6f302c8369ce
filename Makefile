# Tongxin: `make run` sets up and serves the demo on SQLite; `make test` runs every check.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# pyenv selects 3.12 through .python-version; elsewhere name it: make PYTHON=python3.12
PYTHON ?= $(shell command -v python3.12 2>/dev/null || echo python3)
# The PostgreSQL pass: DATABASE_URL_TEST, else DATABASE_URL, else the local default.
PG_URL ?= $(or $(DATABASE_URL_TEST),$(DATABASE_URL),postgres://postgres@127.0.0.1:5432/postgres)
PYTEST_ARGS ?=
# Where `make run` serves.
ADDR ?= 127.0.0.1:8000

.PHONY: setup static run test lint typecheck checks test-sqlite test-postgres demo messages bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "Python 3.12 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

# Static files as production serves them: hashed names, gzip copies (var/static/).
static: setup
	unset DATABASE_URL; $(PY) manage.py collectstatic --noinput --verbosity 0

demo: setup static
	unset DATABASE_URL; $(PY) manage.py migrate --verbosity 0
	unset DATABASE_URL; $(PY) manage.py load_demo

# As in production: DEBUG off, static files compressed and cached, Chinese error pages, and the
# worker that runs the background tasks (ledger checks and imports) beside the web server.
# Ctrl-C stops both; the worker first finishes the task it runs (a second Ctrl-C stops it there,
# and the import changes nothing).
run: demo
	unset DATABASE_URL; export TONGXIN_ACCEPT_KEY_IN_DATA_DIR=1; \
	TONGXIN_DEMO=1 DEBUG=0 $(PY) manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
	TONGXIN_DEMO=1 DEBUG=0 $(PY) manage.py runserver $(ADDR)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo --no-cache

typecheck: setup
	$(VENV)/bin/mypy .

checks: setup
	env -u DATABASE_URL $(PY) manage.py check --fail-level WARNING
	env -u DATABASE_URL $(PY) manage.py makemigrations --check --dry-run

test-sqlite: setup
	env -u DATABASE_URL $(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)

# As on a county's server, the tests run as a runtime role that owns no table and may only add
# to the audit trail (conftest.py, docs/deploy-database.md); the user below creates and migrates
# the test database, so it needs CREATEDB and CREATEROLE (postgres has both).
test-postgres: setup
	@if $(PY) -c 'import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()' "$(PG_URL)" 2>/dev/null; then \
	  echo "== PostgreSQL pass: $(PG_URL)"; \
	  DATABASE_URL="$(PG_URL)" $(VENV)/bin/pytest -n 2 $(PYTEST_ARGS); \
	else \
	  echo "== PostgreSQL pass SKIPPED: no server answers at $(PG_URL) (set DATABASE_URL_TEST to run it)"; \
	fi

test: lint typecheck checks test-sqlite test-postgres

messages: setup
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --add-location file -i ".venv/*" -i "node_modules/*" -i "var/*"
	cd tongxin && ../$(PY) ../manage.py compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) node_modules var
