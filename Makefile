# hallsync — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: central and two store nodes, a simulated business day in each hall, the KPIs on both sides
demo: $(STAMP)
	$(BIN)/python -m clients.demo

## test: lint, type-check and run every test suite
test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-fast: only the fast suites (no process kills, no benchmarks-in-miniature)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## bench: the store API benchmark against a store node it starts on loopback
bench: $(STAMP)
	$(BIN)/python bench/store_api.py

## bench-sync: 50 stores upload a day each over websockets to central on PostgreSQL (127.0.0.1:5432)
.PHONY: bench-sync
bench-sync: $(STAMP)
	$(BIN)/python bench/sync_ingest.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
