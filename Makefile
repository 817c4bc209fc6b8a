# The two commands a newcomer needs: `make demo` and `make test`. Both create the virtual
# environment and install clmsync into it when needed, from nothing but Python 3.11+ and make.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit install clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

demo: install
	$(BIN)/clmsync demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

# Benchmarks side by side with the baselines and peers; each scenario appends a row to
# bench/RESULTS.md. `make bench` runs every scenario (long: full sizes), `make bench-landing` or
# `make bench SCENARIO=landing` one; BENCH_ARGS="--size 10000 --rounds 1" for a quick try.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(SCENARIO) $(BENCH_ARGS)

bench-%: $(BENCH_STAMP)
	$(BIN)/python -m bench $* $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
