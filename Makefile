# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test lint install bench clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

# axe-core for the browser accessibility tests, pinned in package-lock.json. `npm ci` rewrites
# node_modules/.package-lock.json, so that file is newer than the lock exactly when node_modules is current.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed node_modules/.package-lock.json

# Serve the portal with demo data on SQLite, reminder worker beside it. Ctrl-C stops both.
run: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo
	PATH="$(CURDIR)/$(BIN):$$PATH" DEBUG=$${DEBUG:-1} $(BIN)/honcho start -f Procfile -p $(PORT)

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Benchmarks print the numbers quoted in the README (each script's --help has its options).
bench: install
	$(BIN)/python bench/bench_today.py
	$(BIN)/python bench/bench_education.py
	$(BIN)/python bench/bench_load.py --db sqlite
	$(BIN)/python bench/bench_load.py --db postgres
	$(BIN)/python bench/bench_reminders.py
	$(BIN)/python bench/bench_planning.py --reuse
	$(BIN)/python bench/count_instructions.py

# The README's staff-side screenshots (docs/screenshots/*.png): demo data in a scratch SQLite database,
# the dev server on a free port, Debian's Chromium at 1280×900. Nothing else is touched.
screenshots: install
	$(BIN)/python docs/screenshots/make_screenshots.py

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache
