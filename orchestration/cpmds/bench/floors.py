"""What a stage cannot beat: the floors `cpmds bench` sets each stage's time against.

Ingest's floor is the faster of two ways of only reading the landing zone's files: Polars reading
them one by one in one process, and DuckDB's ``read_csv`` over each dataset's CSV file list. Both
read every column as text and do nothing else (no gates, no typing, no writing). Workbooks
(``.xlsx``, about a fifth of a national zone's files) are read as ingest reads them, with Polars'
calamine engine, in both: DuckDB's own Excel reader is an extension it would download.
Publish's floor is copying the warehouse file.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from cpmds.land import discover


@dataclass(frozen=True)
class ReadFloor:
    files: int
    polars_seconds: float
    duckdb_seconds: float

    @property
    def seconds(self) -> float:
        return min(self.polars_seconds, self.duckdb_seconds)


SUFFIXES = (".csv", ".xlsx")


def landing_files(raw: Path) -> list[Path]:
    """The deliveries ingest reads: the CSV files and workbooks among what land discovers."""
    return [path for path in discover(raw) if path.suffix in SUFFIXES]


def read_floor(raw: Path) -> ReadFloor:
    files = landing_files(raw)
    workbooks = [path for path in files if path.suffix == ".xlsx"]
    started = time.perf_counter()
    for path in files:
        if path.suffix == ".xlsx":
            _read_workbook(path)
        else:
            pl.read_csv(path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True)
    polars_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for path in workbooks:
        _read_workbook(path)
    # One read_csv per dataset and header: `union_by_name` over thousands of files holds every
    # file's reader at once (it ran out of 19 GiB on a national five years), so the files are
    # grouped by their header line instead, which is part of the timing.
    by_header: dict[tuple[str, bytes], list[str]] = defaultdict(list)
    for path in files:
        if path.suffix != ".csv":
            continue
        with path.open("rb") as handle:
            header = handle.readline()
        # <partner>/<org>/<dataset>_<period>_<stamp>.csv: the dataset is the name before its period
        by_header[(f"{path.parts[-3]}/{path.stem.rsplit('_', 2)[0]}", header)].append(str(path))
    with duckdb.connect() as connection:
        connection.execute("set preserve_insertion_order = false")
        for names in by_header.values():
            connection.execute(
                "select count(*) from read_csv(?, all_varchar = true, header = true, "
                "ignore_errors = true, encoding = 'latin-1')",
                [names],
            ).fetchone()
    duckdb_seconds = time.perf_counter() - started
    return ReadFloor(len(files), polars_seconds, duckdb_seconds)


def _read_workbook(path: Path) -> pl.DataFrame:
    """The first sheet's cells as text, as ingest reads a workbook."""
    return pl.read_excel(
        path, engine="calamine", has_header=False, read_options={"dtypes": "string"}
    )


def copy_floor(path: Path) -> float:
    """Seconds to copy ``path`` (the published warehouse) to a scratch file."""
    with tempfile.TemporaryDirectory(prefix="cpmds-bench-copy-") as scratch:
        started = time.perf_counter()
        shutil.copyfile(path, Path(scratch) / path.name)
        return time.perf_counter() - started
