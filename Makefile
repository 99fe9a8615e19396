# Two commands for a fresh machine (see README): `make serve` and `make test`.
# Each makes the virtualenv in .venv and installs what it needs, once per pyproject.toml change.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml client/pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test lint bench schema browser postgres screenshots

$(STAMP): pyproject.toml client/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e ".[test]" -e client
	rm -f $(VENV)/.installed-* && touch $(STAMP)

serve: $(STAMP)
	$(BIN)/graphsim serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check graphsim tests bench client
	$(BIN)/mypy graphsim
	$(BIN)/lint-imports --no-cache

test: lint browser postgres
	$(BIN)/pytest

# The browser tests drive Debian's chromium through Playwright (no browser download); a fresh
# machine gets it from apt (CI runs as root).
browser:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# The store tests also run against a throw-away PostgreSQL cluster (tests/postgres_cluster.py),
# from Debian's postgresql package; a fresh machine gets it from apt (CI runs as root).
postgres:
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql)

# Regenerate the README's screenshots (docs/*.png) from a real server and browser.
screenshots: $(STAMP) browser
	$(BIN)/python client/web/screenshots.py

schema: $(STAMP)
	$(BIN)/graphsim export-schema

bench: $(STAMP)
	$(BIN)/python bench/bench_can.py
