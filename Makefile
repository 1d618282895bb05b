# The two commands a newcomer runs: `make demo` and `make test`. Both work on a machine with only
# Python 3.11+ and make: where uv is not on PATH it is bootstrapped into .tools/ (a project-local venv).
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen

.PHONY: demo test lint format docs bench-generate sync clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

sync: .venv/.synced

demo: sync
	$(RUN) cpmds demo

test: sync
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) pytest

lint: sync
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

docs: sync
	$(RUN) cpmds docs

bench-generate: sync
	$(RUN) python benchmarks/bench_generate.py

clean:
	rm -rf .venv .tools .cpmds .pytest_cache .ruff_cache
