"""The publication schema, the shareable publication file (nothing restricted in it) and the CSV
export (suppressed numbers as *, no formula reaches a spreadsheet)."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import polars as pl

from cpmds.publish.outputs import (
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
