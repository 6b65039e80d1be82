# `make run` and `make test` create the virtual environment and install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint format i18n migrate bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## the bot: every platform with a token, else the console chat
	$(BIN)/community-bot run

migrate: $(STAMP)
	$(BIN)/community-bot migrate

test: $(STAMP)  ## the whole suite, SQLite and (where reachable) PostgreSQL
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

i18n: $(STAMP)  ## re-extract messages and merge them into every catalog
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k t -k ngettext:1,2 --no-location --sort-output --omit-header --no-wrap -o core/locales/messages.pot .
	$(BIN)/pybabel -q update -i core/locales/messages.pot -d core/locales --no-wrap --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date

bench: $(STAMP)  ## the measurements recorded in docs/benchmarks.md (minutes, not seconds)
	$(BIN)/python -m bench.telegram_throughput
	$(BIN)/python -m bench.reminder_fanout

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
