# SIPADU — two commands on a fresh Debian 12 machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip --disable-pip-version-check -q
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test lint format deps deps-dev migrate serve bench-quick clean messages

$(BIN)/python:
	./scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	./scripts/system-deps.sh --test
	$(PIP) install -e '.[dev]'
	touch $@

deps: $(VENV)/.installed
deps-dev: $(VENV)/.installed-dev

## Set up and run the demo on http://127.0.0.1:8000 (prints the demo log-ins).
demo: deps
	SIPADU_HTTPS=0 SIPADU_WHATSAPP_FAKE_PORT=8765 $(BIN)/sipadu demo

## Run the whole test suite (SQLite; set DATABASE_URL for PostgreSQL).
test: deps-dev
	$(BIN)/pytest -n 2 --dist loadgroup

lint: deps-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy sipadu bench

format: deps-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Regenerate the translation catalogues (Indonesian source text, English translation).
messages: deps-dev
	$(BIN)/python scripts/i18n.py

clean:
	rm -rf $(VENV) var
