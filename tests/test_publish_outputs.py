"""The publication schema, the shareable publication file (nothing restricted in it) and the CSV
export (suppressed numbers as *, no formula reaches a spreadsheet)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from cpmds.publish.outputs import (
    _cells,
    export_csv,
    neutralise,
    write_publication_file,
    write_publication_schema,
)

ROWS = pl.DataFrame(
    {
        "indicator_id": ["MDS01", "MDS01"],
        "area_code": ["S12000005", '=HYPERLINK("x")'],
        "numerator": [12, None],
        "value": [1.5, None],
        "flags": [["history_gap"], []],
        "suppressed": [False, True],
        "suppression_reason": [None, "primary"],
    }
)


def warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        for table in ("dim_indicator", "dim_area", "dim_period"):
            connection.execute(f"create table marts.{table} as select 1 as id")
        connection.execute("create table marts.fct_registrations as select 'pseudonym' as key")
        connection.execute("create table marts.indicator_values as select 1 as unsuppressed")
        connection.execute("create schema quality")
        connection.execute("create table quality.consistency as select 1 as id")
        write_publication_schema(connection, ROWS)
    return path


def test_the_publication_file_holds_the_publication_and_dimensions_only(tmp_path):
    source = warehouse(tmp_path / "cpmds.duckdb")
    target = write_publication_file(source, tmp_path / "cpmds_publication.duckdb", label="r1")
    with duckdb.connect(str(target), read_only=True) as connection:
        tables = set(
            connection.execute(
                "select schema_name || '.' || table_name from duckdb_tables()"
            ).fetchall()
        )
        rows = connection.execute(
            "select numerator, suppressed from publication.indicator_values"
        ).fetchall()
    assert tables == {
        ("publication.indicator_values",),
        ("marts.dim_indicator",),
        ("marts.dim_area",),
        ("marts.dim_period",),
        ("quality.consistency",),
    }
    assert rows == [(12, False), (None, True)]
    assert not list(tmp_path.glob(".*partial"))


def test_the_csv_export_marks_suppressed_numbers_and_defuses_formulas(tmp_path):
    path = export_csv(ROWS, tmp_path / "exports" / "publication.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ROWS.columns
    assert lines[1] == ["MDS01", "S12000005", "12", "1.5", "history_gap", "false", ""]
    assert lines[2] == ["MDS01", '\'=HYPERLINK("x")', "*", "*", "", "true", "primary"]


def test_every_formula_start_is_neutralised():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text).startswith("'")
    assert neutralise("S12000005") == "S12000005"


def _written_row_by_row(rows: pl.DataFrame, path: Path) -> bytes:
    """The export as it was first written, row by row through csv.writer: the definition."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(rows.columns)
        at = rows.columns.index("suppressed")
        for row in rows.iter_rows():
            writer.writerow(_cells(rows.columns, row, bool(row[at])))
    return path.read_bytes()


def test_the_csv_export_is_byte_for_byte_what_csv_writer_writes(tmp_path):
    texts = ["", None, "x,y", 'q"r', "l\nm", "c\rd", " s ", "=1", "-2", "+x", "@a", "\tt", "é"]
    floats = [1.0, 0.1, 1e-5, 1e16, 123456789.123, float("nan"), float("inf"), -0.0, None,
              9.99e-5, 1e-4, -1e-7, 2.5e-300]  # fmt: skip
    n = len(texts)
    rows = pl.DataFrame(
        {
            "indicator_id": texts,
            "value": floats,
            "numerator": [1, None, -3, 0, 2**62, 5, 6, 7, 8, 9, 10, 11, 12],
            "flags": [
                ["a", "b"],
                [],
                None,
                ["=x"],
                ["a", None],
                ["-"],
                ["a,b"],
                [""],
                *[["x"]] * 5,
            ],
            "provisional": [True, False, None, *[True] * (n - 3)],
            "period_start": [dt.date(2024, 1, 31), None, dt.date(1, 1, 1), *[None] * (n - 3)],
            "single": pl.Series([1.1] * n, dtype=pl.Float32),
            "moment": [dt.datetime(2024, 1, 1, 12, 0, 0, 5)] * n,
            "suppressed": [False, True, None, *[False, True] * 5],
        }
    )
    rows = rows.with_columns(pl.col("value").alias("ci_lower"))
    written = export_csv(rows, tmp_path / "fast.csv").read_bytes()
    assert written == _written_row_by_row(rows, tmp_path / "slow.csv")
    assert b"\r\n" in written and b'"x,y"' in written
