"""What a stage cannot beat: the floors `cpmds bench` sets each stage's time against.

Ingest's floor is the faster of two ways of only reading the landing zone's CSV files: Polars
reading them one by one in one process, and DuckDB's ``read_csv`` over each dataset's file list.
Both read every column as text and do nothing else (no gates, no typing, no writing). Workbooks
(``.xlsx``) are left out of both: they are a handful of files and have no CSV reader to race.
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


@dataclass(frozen=True)
class ReadFloor:
    files: int
    polars_seconds: float
    duckdb_seconds: float

    @property
    def seconds(self) -> float:
        return min(self.polars_seconds, self.duckdb_seconds)


def csv_files(raw: Path) -> list[Path]:
    return sorted(path for path in raw.rglob("*.csv") if path.is_file())


def read_floor(raw: Path) -> ReadFloor:
    files = csv_files(raw)
    started = time.perf_counter()
    for path in files:
        pl.read_csv(path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True)
    polars_seconds = time.perf_counter() - started

    by_dataset: dict[str, list[str]] = defaultdict(list)
    for path in files:
        # <partner>/<org>/<dataset>_<period>_<stamp>.csv: the dataset is the name before its period
        by_dataset[f"{path.parts[-3]}/{path.stem.rsplit('_', 2)[0]}"].append(str(path))
    started = time.perf_counter()
    with duckdb.connect() as connection:
        for names in by_dataset.values():
            connection.execute(
                "select count(*) from read_csv(?, all_varchar = true, union_by_name = true, "
                "ignore_errors = true, encoding = 'latin-1')",
                [names],
            ).fetchone()
    duckdb_seconds = time.perf_counter() - started
    return ReadFloor(len(files), polars_seconds, duckdb_seconds)


def copy_floor(path: Path) -> float:
    """Seconds to copy ``path`` (the published warehouse) to a scratch file."""
    with tempfile.TemporaryDirectory(prefix="cpmds-bench-copy-") as scratch:
        started = time.perf_counter()
        shutil.copyfile(path, Path(scratch) / path.name)
        return time.perf_counter() - started
