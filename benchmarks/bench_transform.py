"""Benchmark (not a test): how long the dbt build of the warehouse and the 41 indicators takes.

Generates a clean national landing zone (all 32 councils, 14 boards; five statistical years at
--scale 1 by default) in a scratch directory, runs the real load job once (`cpmds run`: land, gates
1 and 2, ingest, then `dbt build`), and prints the dbt build's wall time from dbt's own
``run_results.json``, the slowest models, the time per layer and the row counts of the warehouse's
tables, as a table.

    uv run python benchmarks/bench_transform.py [--years 5] [--scale 1.0] [--councils all]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb

from cpmds.pipeline.runner import run_load
from cpmds.pseudonymise import KEY_VARIABLE
from cpmds.publish.atomic import published_path
from cpmds.settings import Settings
from cpmds.synthetic import GenerateOptions, generate
from cpmds.transform.build import warehouse_build

TEST_KEY = "0123456789abcdef" * 4  # a fixed 256-bit key, for this process only
LAST_PERIOD = 202407
SLOWEST = 12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=5, help="statistical years, ending 2023/24")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--councils", default="all", help="'all' or the first N councils")
    arguments = parser.parse_args()
    os.environ[KEY_VARIABLE] = TEST_KEY
    first_period = (LAST_PERIOD // 100 - arguments.years) * 100 + 8

    with tempfile.TemporaryDirectory(prefix="cpmds-bench-transform-") as scratch:
        raw = Path(scratch) / "raw"
        options = GenerateOptions.build(
            out=raw,
            councils=arguments.councils,
            period_from=first_period,
            period_to=LAST_PERIOD,
            scale=arguments.scale,
            defects=False,
        )
        started = time.perf_counter()
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            generated = pool.submit(generate, options, False).result()
        generate_seconds = time.perf_counter() - started

        settings = Settings(raw=raw, home=Path(scratch) / "home")
        started = time.perf_counter()
        outcome = run_load(settings, progress=True)
        run_seconds = time.perf_counter() - started
        built = published_path(settings.home)
        if not built.exists():
            raise SystemExit(f"the run published no warehouse: {outcome.describe()}")
        artifacts = warehouse_build(settings, outcome.run_id).artifacts
        results = json.loads((artifacts / "run_results.json").read_text())
        counts = _row_counts(built)

    print()
    print(
        f"cpmds transform benchmark: {arguments.years} statistical years "
        f"({first_period}-{LAST_PERIOD}), councils {arguments.councils}, scale {arguments.scale}; "
        f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"duckdb {duckdb.__version__}"
    )
    print(
        f"landing zone: {generated.files:,} files, {generated.rows:,} rows "
        f"(generated in {generate_seconds:.0f} s)"
    )
    print(f"whole run (land, gates, ingest, dbt build): {run_seconds:.1f} s; {outcome.describe()}")
    print(f"dbt build: {results['elapsed_time']:.1f} s wall")
    _print_layers(results)
    _print_slowest(results)
    _print_counts(counts)


def _row_counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() where not internal "
            "order by schema_name, table_name"
        ).fetchall()
        return {
            f"{schema}.{table}": connection.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchall()[0][0]
            for schema, table in tables
        }


def _layer(unique_id: str) -> str:
    kind, _, name = unique_id.split(".", 2)
    if kind != "model":
        return kind
    for prefix, layer in (
        ("stg_", "staging"),
        ("int_indicator", "indicators"),
        ("int_", "intermediate"),
        ("fct_", "facts"),
    ):
        if name.startswith(prefix):
            return layer
    return "marts"


def _print_layers(results: dict) -> None:
    seconds: dict[str, float] = defaultdict(float)
    nodes: dict[str, int] = defaultdict(int)
    for result in results["results"]:
        layer = _layer(result["unique_id"])
        seconds[layer] += result["execution_time"]
        nodes[layer] += 1
    print("\nnode time by kind (summed over dbt's threads, so above the wall time):")
    for layer, total in sorted(seconds.items(), key=lambda item: -item[1]):
        print(f"  {layer:<14} {nodes[layer]:>4} nodes {total:>8.1f} s")


def _print_slowest(results: dict) -> None:
    print(f"\nslowest {SLOWEST} nodes:")
    ordered = sorted(results["results"], key=lambda result: -result["execution_time"])
    for result in ordered[:SLOWEST]:
        print(f"  {result['execution_time']:>7.2f} s  {result['unique_id']}")


def _print_counts(counts: dict[str, int]) -> None:
    print("\nrows per table (marts and the biggest of the rest):")
    marts = {name: rows for name, rows in counts.items() if name.startswith("marts.")}
    others = sorted(
        ((name, rows) for name, rows in counts.items() if name not in marts), key=lambda x: -x[1]
    )
    for name, rows in [*sorted(marts.items()), *others[:8]]:
        print(f"  {rows:>12,}  {name}")
    print(f"  {sum(counts.values()):>12,}  in {len(counts)} tables")


if __name__ == "__main__":
    main()
