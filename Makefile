# The commands the README names. `make run` and `make test` install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run serve test test-fast lint format browser check-deploy clean bench pdf-libs

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

## make run: migrate, load FY24 (and the demo program: FY24 rules moved to today), the demo
## logins and vouchers, then web + worker + beat.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_program fy24
	$(PY) manage.py load_program demo
	$(PY) manage.py seed_demo
	@echo "Portal: http://127.0.0.1:$${PORTAL_PORT:-8000}/  API docs: http://127.0.0.1:$${PORTAL_PORT:-8000}/api/v1/docs/"
	$(VENV)/bin/honcho --procfile Procfile.dev start

## make test: the whole suite, browser tests included, one pytest worker per core
## (pytest-xdist). A module fixture is built once in each worker that runs its tests.
PYTEST_WORKERS ?= auto
test: install browser
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS)

## make test-fast: the fast lanes, without the browser, load and fault tests.
test-fast: install
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) -m "not browser and not slow" -q

## Debian's Chromium for the Playwright tests (Playwright's own download does not work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing and cannot be installed here: browser tests will be skipped locally (CI fails on them)"; fi; }

## make bench: the performance benchmark on PostgreSQL (README "Performance"): prints the
## table, writes bench/results.json, fails when a ratio misses its target. Without
## DATABASE_URL it starts PostgreSQL on 127.0.0.1:5432 as .ci/run does.
bench: install pdf-libs
	@if [ -z "$${DATABASE_URL:-}" ]; then bash bench/start-postgres.sh; fi
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) -m bench.run

## HarfBuzz's subsetter: WeasyPrint embeds font subsets with it in C instead of fontTools.
pdf-libs:
	@ldconfig -p | grep -q libharfbuzz-subset || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libharfbuzz-subset0 >/dev/null; \
	  else echo "libharfbuzz-subset0 is missing: PDFs render several times slower (fontTools)"; fi; }

lint: install
	$(VENV)/bin/pre-commit validate-config
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	git ls-files '*.py' | grep -v /migrations/ | xargs $(VENV)/bin/django-upgrade --target-version 5.2 --check
	$(VENV)/bin/mypy .
	$(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-deploy: install
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
	  DJANGO_ALLOWED_HOSTS=portal.example.com $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var db.sqlite3 staticfiles
