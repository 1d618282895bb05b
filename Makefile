# The two commands a newcomer runs: `make demo` and `make test`. Both work on a machine with only
# Python 3.11+ and make: where uv is not on PATH it is bootstrapped into .tools/ (a project-local venv).
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen

SYSTEM_PACKAGES := chromium libreoffice-calc-nogui fonts-dejavu-core

.PHONY: system-packages demo test lint format docs warehouse-docs dbt-parse bench bench-generate bench-ingest bench-transform sync clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

sync: .venv/.synced

# @dbt_assets reads dbt_project/target/manifest.json when the code location loads: `dbt parse`
# first, whenever the manifest is missing or stale (a digest of the project's files decides).
dbt-parse: sync
	$(RUN) python -m cpmds.transform parse

demo: sync dbt-parse
	$(RUN) cpmds demo

# The browser (report screenshots and PDF, the Dagster UI test) and the spreadsheet program (the
# published workbook opened by a real one) that the tests use: Debian's packages, installed when
# missing and this user may install them; otherwise those tests skip and say why.
system-packages:
	@if command -v chromium >/dev/null && command -v soffice >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian packages: $(SYSTEM_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	else echo "Note: $(SYSTEM_PACKAGES) not installed (needs root and apt); browser and spreadsheet tests will skip."; fi

test: sync dbt-parse system-packages
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) pytest -n 2 --dist loadfile

lint: sync
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

# The reference docs (and raw/README.md's rule-code table) and the dbt sources, staging models,
# seeds and vars, all generated from the contract, the rules and the indicator catalogue; then the
# warehouse's documentation page, once `make demo` has published a warehouse to document.
docs: sync
	$(RUN) cpmds docs
	$(RUN) python -m cpmds.transform models
	@if [ -e .cpmds/demo/warehouse/cpmds.duckdb ]; then $(MAKE) --no-print-directory warehouse-docs; \
	else echo "No demo warehouse yet: run make demo, then make docs, for .cpmds/demo/docs/warehouse.html"; fi

# The warehouse's documentation (dbt docs: models, columns, tests, lineage) as one HTML page, from
# the demo's published warehouse: open .cpmds/demo/docs/warehouse.html in a browser.
warehouse-docs: sync dbt-parse
	$(RUN) python -m cpmds.transform docs --home .cpmds/demo

# `cpmds bench` at a small scale (a few minutes): a cold backfill, a nightly month, a no-change
# re-run, with each stage's time, rows/s, peak memory and floor; figures in .cpmds/bench/bench.json.
# The national five-year figures: `uv run cpmds bench --scale 1 --years 5` (docs/performance.md).
bench: sync dbt-parse
	$(RUN) cpmds bench --scale 0.05 --years 1 --councils 8 --home .cpmds/bench

bench-generate: sync
	$(RUN) python benchmarks/bench_generate.py

bench-ingest: sync
	$(RUN) python benchmarks/bench_ingest.py

# The dbt build of the warehouse and the indicators over a national five-year landing zone.
bench-transform: sync dbt-parse
	$(RUN) python benchmarks/bench_transform.py

clean:
	rm -rf .venv .tools .cpmds .pytest_cache .ruff_cache
