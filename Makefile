# Two commands: `make run` (SQLite, sandbox gateway, demo data) and `make test` (PostgreSQL).
# `make test-sqlite` runs the same suite on a throwaway SQLite file (tests marked postgres_only skip).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/kosh

.PHONY: run test test-sqlite lint-imports install install-dev lint migrate clean readme-check fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# `make run` leaves a .env (generated secrets, DEBUG=true; gitignored) that every later
# manage.py command reads; an existing one is kept.
ENV_FILE ?= .env
$(ENV_FILE):
	@$(PYTHON) -c 'import secrets; print("DEBUG=true"); print("SECRET_KEY=" + secrets.token_urlsafe(50)); print("JWT_SECRET=" + secrets.token_urlsafe(48))' > $@
	@echo "Wrote $@: generated SECRET_KEY and JWT_SECRET, DEBUG=true (manage.py reads it)."

run: install $(ENV_FILE)
	KOSH_ENV_FILE=$(ENV_FILE) DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	KOSH_ENV_FILE=$(ENV_FILE) DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_demo --base-url http://$(HOST):$(PORT)
	KOSH_ENV_FILE=$(ENV_FILE) DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Secrets here are test-only values.
TEST_ENV = SECRET_KEY=$${SECRET_KEY:-kosh-test-secret-key-not-for-production-7f3a9c1e5b2d4086} \
	JWT_SECRET=$${JWT_SECRET:-kosh-test-jwt-secret-not-for-production-2b8e6d4f0a1c3957} \
	SECURE_SSL_REDIRECT=false DEBUG=false

# Apps import only lower layers (DESIGN §2); the contract is in .importlinter.
lint-imports: install-dev
	$(BIN)/lint-imports --no-logo

# Tests run on PostgreSQL (row locks, conditional updates).
test: lint-imports
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite on SQLite (what `make run` uses), in a throwaway directory removed afterwards.
test-sqlite: lint-imports
	dir=$$(mktemp -d) && status=0 && \
	DATABASE_URL=sqlite:///$$dir/kosh.sqlite3 $(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	rm -rf "$$dir"; exit $$status

# The README's checked shell blocks, in order, against a live `make run` (SQLite in a temp dir).
readme-check: install-dev
	$(BIN)/python scripts/readme_check.py

# Schemathesis on the OpenAPI as anonymous, user, staff and API key: no 5xx (PostgreSQL, kosh_fuzz).
fuzz: install-dev
	$(BIN)/python scripts/fuzz_api.py $(FUZZ_ARGS)

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .import_linter_cache db.sqlite3 staticfiles
