# The two commands a newcomer needs: `make run` serves the seeded API, `make test` checks everything.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 4

.PHONY: run serve-workers test lint load check-seed bench clean

$(BIN)/.installed: requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $@

load: $(BIN)/.installed
	$(BIN)/python -m app.seed load

run: load
	$(BIN)/python -m app.serve --host $(HOST) --port $(PORT)

serve-workers: load
	$(BIN)/python -m app.serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

check-seed: $(BIN)/.installed
	$(BIN)/python -m app.seed check

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache

# Benchmarks (bench/): `make bench` compares the app with a raw ASGI ceiling on SQLite and
# PostgreSQL; `make bench-scale` times reads on 10k, 100k and 1M synthetic commitments.
# Options go in BENCH_ARGS, e.g. make bench BENCH_ARGS=--quick
.PHONY: bench-scale
bench:
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-scale:
	$(BIN)/python -m bench.scale $(BENCH_ARGS)
