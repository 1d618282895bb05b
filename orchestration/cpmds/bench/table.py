"""The benchmark's figures as tables on the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from cpmds.bench.run import BenchResult


def print_result(result: BenchResult, console: Console | None = None) -> None:
    console = console or Console()
    console.print(
        f"cpmds bench: {result.years} statistical year(s) at scale {result.scale}, councils "
        f"{result.councils}: "
        f"{result.files:,} files, {result.rows:,} rows (generated in {result.generate_seconds} s); "
        f"{result.cores} cores, {result.python}, "
        + ", ".join(f"{name} {number}" for name, number in result.versions.items())
    )
    for scenario in result.scenarios:
        console.print(
            f"\n[bold]{scenario.name}[/bold]: {scenario.wall_seconds} s wall, peak "
            f"{scenario.peak_mib:,} MiB, exit {scenario.exit_code}; the build started "
            f"{scenario.build_start}"
        )
        table = Table()
        for heading in ("stage", "seconds", "rows", "rows/s", "peak MiB"):
            table.add_column(heading, justify="left" if heading == "stage" else "right")
        for figure in scenario.stages:
            table.add_row(
                figure.stage,
                f"{figure.seconds:.2f}",
                f"{figure.rows:,}" if figure.rows else "-",
                f"{figure.rows_per_second:,.0f}" if figure.rows else "-",
                f"{figure.peak_mib:,.0f}",
            )
        console.print(table)
    floors = result.floors
    console.print(
        f"Floors: reading the {floors['ingest_read_files']:,} files "
        f"{floors['ingest_read_seconds']} s (Polars file by file "
        f"{floors['ingest_read_polars_seconds']} s, DuckDB read_csv per dataset and workbooks "
        "through Polars "
        f"{floors['ingest_read_duckdb_seconds']} s); copying the warehouse "
        f"{floors['publish_copy_seconds']} s."
    )
    console.print(
        f"Ratios (cold run): land + gate 1 + ingest + gate 2 = "
        f"{result.ratios['ingest_vs_read_floor']}x the read floor; publish = "
        f"{result.ratios['publish_vs_copy_floor']}x the copy."
    )
