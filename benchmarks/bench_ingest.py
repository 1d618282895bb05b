"""Benchmark (not a test): how fast land and ingest take a landing zone, against a reading floor.

Generates a clean landing zone (no defects; a national year at --scale 1 by default) in a scratch
directory, then times the pipeline's stages as plain functions, without Dagster: land (the load
log), then ingest for every dataset of the contract (gate 1, the read, gate 2, pseudonymising and
writing to the state store). The floor is the faster of two ways of merely reading the same files:
Polars file by file, or DuckDB over each dataset's CSV files at once (XLSX through Polars in both).
The target is land + ingest within 4x of the floor.

    uv run python benchmarks/bench_ingest.py [--councils all] [--scale 1.0] \
        [--from 202308] [--to 202407] [--per-dataset] [--profile ingest.prof]

Peak memory is the benchmark process's high-water mark (``ru_maxrss``); the landing zone is
generated in a child process so that it does not count.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import platform
import pstats
import re
import resource
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

from cpmds.contract import load_contract
from cpmds.pipeline.stages import ingest_stage, land_stage
from cpmds.pipeline.timing import SPANS, STAGES
from cpmds.pseudonymise import KEY_VARIABLE
from cpmds.settings import Settings
from cpmds.synthetic import GenerateOptions, GenerateResult, generate

TEST_KEY = "0123456789abcdef" * 4  # a fixed 256-bit key, for this process only
TARGET_RATIO = 4.0
FILE_NAME = re.compile(r"^(?P<dataset>[a-z_]+)_\d{6}_\d{12}\.(?P<extension>csv|xlsx)$")
C1_BYTES = re.compile(rb"[\x80-\x9f]")  # where Windows-1252 and Latin-1 differ
T = TypeVar("T")


@dataclass
class Measure:
    """One line of the table."""

    label: str
    files: int
    rows: int | None
    seconds: float
    note: str = ""


@dataclass
class Floor:
    files: int = 0
    rows: int = 0
    seconds: float = 0.0
    unread: list[Path] = field(default_factory=list)
    note: str = ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", default="all", help="'all' or the first N councils")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--from", dest="period_from", type=int, default=202308)
    parser.add_argument("--to", dest="period_to", type=int, default=202407)
    parser.add_argument(
        "--raw", type=Path, help="benchmark this existing landing zone instead of generating one"
    )
    parser.add_argument("--per-dataset", action="store_true", help="print every dataset's time")
    parser.add_argument(
        "--profile",
        type=Path,
        help="run land and ingest under cProfile, write the stats here and print the top "
        "functions (the stage timings then include the profiler's overhead)",
    )
    arguments = parser.parse_args()
    os.environ[KEY_VARIABLE] = TEST_KEY

    with tempfile.TemporaryDirectory(prefix="cpmds-bench-") as scratch:
        generation = None
        if arguments.raw is not None:
            raw = arguments.raw.resolve()
        else:
            raw = Path(scratch) / "raw"
            generation = _generate(raw, arguments)
        settings = Settings(raw=raw, home=Path(scratch) / "home")
        files = sorted(path for path in raw.rglob("*") if path.is_file())
        deliveries = [path for path in files if FILE_NAME.match(path.name)]
        size = sum(path.stat().st_size for path in files)

        profiler = cProfile.Profile() if arguments.profile else None
        land, datasets = _run_pipeline(settings, profiler)
        ingest_peak = _peak_mebibytes()
        polars_floor = _polars_floor(deliveries)
        duckdb_floor = _duckdb_floor(deliveries)
        overall_peak = _peak_mebibytes()

    ingest = Measure(
        f"ingest ({len(datasets)} datasets)",
        sum(measure.files for measure in datasets),
        sum(measure.rows or 0 for measure in datasets),
        sum(measure.seconds for measure in datasets),
    )
    pipeline = Measure("land + ingest", ingest.files, ingest.rows, land.seconds + ingest.seconds)
    floors = [
        Measure(
            "floor: Polars per file", polars_floor.files, polars_floor.rows, polars_floor.seconds
        ),
        Measure(
            "floor: DuckDB per dataset",
            duckdb_floor.files,
            duckdb_floor.rows,
            duckdb_floor.seconds,
            duckdb_floor.note,
        ),
    ]
    floor = min(floors, key=lambda measure: measure.seconds)
    ratio = pipeline.seconds / floor.seconds

    print(
        f"cpmds land + ingest benchmark on {platform.python_implementation()} "
        f"{platform.python_version()}, Polars {pl.__version__}, DuckDB {duckdb.__version__}, "
        f"{os.cpu_count()} cores"
    )
    if generation is not None:
        seconds, result = generation
        print(
            f"  landing zone: councils {arguments.councils}, scale {arguments.scale}, periods "
            f"{arguments.period_from}-{arguments.period_to}; generated {result.files:,} files, "
            f"{result.rows:,} rows in {seconds:.1f}s"
        )
    else:
        print(f"  landing zone: {raw}")
    csvs = sum(path.suffix == ".csv" for path in deliveries)
    print(
        f"  files under the landing zone {len(files):,} ({csvs:,} CSV, "
        f"{len(deliveries) - csvs:,} XLSX, {len(files) - len(deliveries):,} other), "
        f"{size / 2**20:,.1f} MiB"
    )
    if profiler is not None:
        print("  (profiled: land and ingest times include cProfile's overhead)")
    print()
    print(f"  {'':<28}{'files':>8}{'rows':>12}{'seconds':>10}{'files/s':>10}{'rows/s':>12}")
    for measure in (land, ingest, pipeline, *floors):
        print(_line(measure))
    print()
    stages = _stage_seconds()
    print(
        "  stage spans: "
        + ", ".join(f"{stage} {seconds:.2f}s" for stage, seconds in stages.items())
    )
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(
        f"  ratio (land + ingest) / floor ({floor.label.removeprefix('floor: ')}): "
        f"{ratio:.1f}x; target within {TARGET_RATIO:g}x: {verdict}"
    )
    print(
        f"  peak memory (max RSS): {ingest_peak:,.0f} MiB after ingest, "
        f"{overall_peak:,.0f} MiB after the floors"
    )
    for name, result in (("Polars", polars_floor), ("DuckDB", duckdb_floor)):
        if result.unread:
            example = result.unread[0].name
            print(f"  {name} could not read {len(result.unread):,} file(s), e.g. {example}")

    slowest = sorted(datasets, key=lambda measure: measure.seconds, reverse=True)
    shown = slowest if arguments.per_dataset else slowest[:3]
    print()
    print("  every dataset, slowest first:" if arguments.per_dataset else "  slowest datasets:")
    for measure in shown:
        print(_line(measure))

    if profiler is not None:
        assert arguments.profile is not None
        profiler.dump_stats(arguments.profile)
        print(f"\n  profile written to {arguments.profile}; top functions by own time:")
        stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
        stats.sort_stats("tottime").print_stats(15)
        stats.sort_stats("cumulative").print_stats(25)


def _generate(raw: Path, arguments: argparse.Namespace) -> tuple[float, GenerateResult]:
    """Write the landing zone in a child process, so its memory is not the benchmark's."""
    options = GenerateOptions.build(
        out=raw,
        councils=arguments.councils,
        period_from=arguments.period_from,
        period_to=arguments.period_to,
        scale=arguments.scale,
        defects=False,
    )
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        result = pool.submit(generate, options, False).result()
    return time.perf_counter() - started, result


def _run_pipeline(
    settings: Settings, profiler: cProfile.Profile | None
) -> tuple[Measure, list[Measure]]:
    """Land, then ingest every dataset of the contract, timing each call."""
    contract = load_contract()  # cached: loading it is not what is measured
    SPANS.clear()
    run_id = f"bench-{uuid.uuid4().hex}"
    seconds, landed = _timed(lambda: land_stage(settings, run_id), profiler)
    land = Measure("land", landed.new_files, None, seconds)
    datasets = []
    for dataset in contract.datasets:
        seconds, summary = _timed(
            lambda dataset=dataset: ingest_stage(settings, dataset.id, run_id), profiler
        )
        note = f"{summary.quarantined} quarantined" if summary.quarantined else ""
        datasets.append(Measure(dataset.id, summary.files, summary.rows_loaded, seconds, note))
    return land, datasets


def _stage_seconds() -> dict[str, float]:
    """Seconds per stage (land, gate 1, gate 2, ingest) from the spans the stages marked."""
    seconds: dict[str, float] = defaultdict(float)
    for span in SPANS.spans:
        seconds[span.stage] += span.seconds
    return {stage: seconds[stage] for stage in STAGES if stage in seconds}


def _timed(call: Callable[[], T], profiler: cProfile.Profile | None) -> tuple[float, T]:
    if profiler is not None:
        profiler.enable()
    started = time.perf_counter()
    try:
        result = call()
    finally:
        seconds = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
    return seconds, result


def _polars_floor(deliveries: Sequence[Path]) -> Floor:
    """Polars reading every file on its own, all cells as text."""
    floor = Floor()
    started = time.perf_counter()
    for path in deliveries:
        try:
            frame = _read_with_polars(path)
        except Exception:  # a floor counts what it can read
            floor.unread.append(path)
            continue
        floor.files += 1
        floor.rows += frame.height
    floor.seconds = time.perf_counter() - started
    return floor


def _read_with_polars(path: Path) -> pl.DataFrame:
    if path.suffix == ".xlsx":
        return pl.read_excel(path, engine="calamine", read_options={"dtypes": "string"})
    try:
        return pl.read_csv(path, infer_schema=False, encoding="utf8")
    except pl.exceptions.ComputeError:  # not UTF-8: the contract's other encoding
        return pl.read_csv(path, infer_schema=False, encoding="windows-1252")


def _duckdb_floor(deliveries: Sequence[Path]) -> Floor:
    """DuckDB's read_csv over each dataset's CSV files at once; XLSX through Polars.

    A read_csv call has one encoding, so each dataset's files are first sorted into UTF-8 and not
    (that sorting is timed: it is work the reader needs). DuckDB 2.0 reads utf-8, utf-16 and
    latin-1 itself; windows-1252 needs the ``encodings`` extension. Without it, a Windows-1252
    file is read as Latin-1 when it has no byte in 0x80-0x9F (the only bytes where the two
    differ), else it is left unread.
    """
    floor = Floor()
    connection = duckdb.connect()
    try:
        connection.execute("LOAD encodings")
        windows = "windows-1252"
    except duckdb.Error:
        windows = None
    started = time.perf_counter()
    groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for path in deliveries:
        match = FILE_NAME.match(path.name)
        assert match is not None
        dataset = f"{path.parent.parent.name}__{match['dataset']}"
        if path.suffix == ".xlsx":
            frame = pl.read_excel(path, engine="calamine", read_options={"dtypes": "string"})
            floor.files += 1
            floor.rows += frame.height
            continue
        raw = path.read_bytes()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            if windows is not None:
                groups[dataset, windows].append(path)
            elif C1_BYTES.search(raw) is None:
                groups[dataset, "latin-1"].append(path)
            else:
                floor.unread.append(path)
        else:
            groups[dataset, "utf-8"].append(path)
    for (_, encoding), paths in sorted(groups.items()):
        floor.rows += _read_with_duckdb(connection, paths, encoding, floor)
    floor.seconds = time.perf_counter() - started
    connection.close()
    latin = sum(len(paths) for (_, encoding), paths in groups.items() if encoding == "latin-1")
    if latin:
        floor.note = f"{latin} Windows-1252 file(s) read as Latin-1 (no 0x80-0x9F bytes)"
    return floor


def _read_with_duckdb(
    connection: duckdb.DuckDBPyConnection, paths: list[Path], encoding: str, floor: Floor
) -> int:
    """Rows read from ``paths`` in one call, else file by file, counting the files read."""
    query = (
        "SELECT * FROM read_csv(?, all_varchar = true, union_by_name = true, "
        "normalize_names = true, header = true, delim = ',', quote = '\"', encoding = ?)"
    )
    try:
        table = connection.execute(query, [[str(path) for path in paths], encoding])
        rows = table.to_arrow_table().num_rows
    except duckdb.Error:
        if len(paths) == 1:
            floor.unread.append(paths[0])
            return 0
        return sum(_read_with_duckdb(connection, [path], encoding, floor) for path in paths)
    floor.files += len(paths)
    return rows


def _peak_mebibytes() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, else KiB


def _line(measure: Measure) -> str:
    rows = f"{measure.rows:>12,}" if measure.rows is not None else f"{'-':>12}"
    rate = f"{measure.rows / measure.seconds:>12,.0f}" if measure.rows is not None else f"{'-':>12}"
    note = f"  {measure.note}" if measure.note else ""
    return (
        f"  {measure.label:<28}{measure.files:>8,}{rows}{measure.seconds:>10.2f}"
        f"{measure.files / measure.seconds:>10,.1f}{rate}{note}"
    )


if __name__ == "__main__":
    main()
