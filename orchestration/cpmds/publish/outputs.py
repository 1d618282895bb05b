"""What may leave the partnership (security.md, "Who sees what"): the ``publication`` schema in the
run's warehouse, the shareable publication file beside the warehouse, and CSV exports.

- ``publication.indicator_values``: ``marts.indicator_values`` with disclosure control applied
  (:func:`cpmds.publish.suppression.suppress`): ``suppressed`` and ``suppression_reason`` per row,
  every number of a suppressed row empty.
- ``cpmds_publication.duckdb``: the publication schema and the dimensions and catalogue
  (``marts.dim_indicator``, ``dim_area``, ``dim_period``), nothing restricted; written beside the
  published warehouse through a hidden sibling and one rename.
- ``<home>/exports/publication_indicator_values_<run>.csv``: the same rows; a suppressed number is
  ``*``, and a text cell that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return first) is prefixed with ``'``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl

from cpmds.publish.atomic import publish_lock, swap_in

PUBLICATION = "publication"
PUBLICATION_FILE = "cpmds_publication.duckdb"
# The dimensions, the catalogue and the disclosure-controlled quality aggregates (interface.md).
SHAREABLE_TABLES = (
    "marts.dim_indicator",
    "marts.dim_area",
    "marts.dim_period",
    "quality.consistency",
)
SUPPRESSED_MARK = "*"
NUMBERS = ("numerator", "denominator", "value", "ci_lower", "ci_upper", "n_children")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_publication_schema(connection: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> None:
    """``publication.indicator_values`` in the open warehouse, from already suppressed rows."""
    connection.execute(f"create schema if not exists {PUBLICATION}")
    connection.register("suppressed_rows", rows.to_arrow())
    try:
        connection.execute(
            f"create or replace table {PUBLICATION}.indicator_values as "
            "select * from suppressed_rows"
        )
    finally:
        connection.unregister("suppressed_rows")
    connection.execute(
        f"comment on table {PUBLICATION}.indicator_values is 'The minimum dataset with "
        "disclosure control applied (security.md): what may leave the partnership. A suppressed "
        "row has every number empty and says why (suppression_reason).'"
    )


def write_publication_file(warehouse: Path, target: Path, label: str) -> Path:
    """The shareable file: the publication schema and the dimensions, nothing restricted,
    published like the warehouse (a new version, then the link swapped; ``label`` names it)."""
    hidden = target.with_name(f".{target.name}.partial")
    hidden.unlink(missing_ok=True)
    with duckdb.connect(str(hidden)) as connection:
        connection.execute(f"attach '{_quoted(warehouse)}' as source (read_only)")
        for schema in (PUBLICATION, "marts", "quality"):
            connection.execute(f"create schema {schema}")
        connection.execute(
            f"create table {PUBLICATION}.indicator_values as "
            f"select * from source.{PUBLICATION}.indicator_values"
        )
        for table in SHAREABLE_TABLES:
            connection.execute(f"create table {table} as select * from source.{table}")
        connection.execute("detach source")
        connection.execute("checkpoint")
    with publish_lock(target.parent):
        swap_in(hidden, target, label=label)
    return target


def export_csv(rows: pl.DataFrame, path: Path) -> Path:
    """The publication's rows as CSV, injection-safe, suppressed numbers as ``*``.

    Each column is turned into its text as a whole (Polars), then written at once: the bytes are
    those of Python's ``csv.writer`` (``excel`` dialect) over :func:`_cells`, row by row, which is
    how it was written before and what the tests compare against."""
    path.parent.mkdir(parents=True, exist_ok=True)
    hidden = path.with_name(f".{path.name}.partial")
    suppressed = rows["suppressed"].fill_null(False).cast(pl.Boolean)
    texts = pl.DataFrame([_texts(rows[name], suppressed, name in NUMBERS) for name in rows.columns])
    # csv.writer writes an empty field bare; Polars quotes an empty string (and writes a null
    # bare), so every empty text becomes a null.
    texts = texts.with_columns(
        pl.when(pl.col(name) != "").then(pl.col(name)).alias(name) for name in texts.columns
    )
    texts.write_csv(hidden, quote_style="necessary", line_terminator="\r\n", null_value="")
    hidden.replace(path)
    return path


def _texts(column: pl.Series, suppressed: pl.Series, number: bool) -> pl.Series:
    """A column's cells as :func:`_cells` writes them (null for an empty cell)."""
    dtype = column.dtype
    if dtype == pl.String:
        text = _neutralised(column)
    elif dtype == pl.Boolean:
        text = column.replace_strict({True: "true", False: "false"}, return_dtype=pl.String)
    elif dtype.is_integer():
        text = column.cast(pl.String)
    elif dtype.is_float():
        text = _float_texts(column.cast(pl.Float64))
    elif dtype == pl.Date:
        text = column.cast(pl.String)
    elif isinstance(dtype, pl.List) and dtype.inner == pl.String:
        joined = column.list.eval(pl.element().fill_null("None")).list.join("|")
        text = _neutralised(joined)
    else:  # anything else, value by value as _cells does
        text = pl.Series(
            [None if v is None else next(iter(_cells([""], (v,), False))) for v in column],
            dtype=pl.String,
        )
    if number:
        text = pl.select(pl.when(suppressed).then(pl.lit(SUPPRESSED_MARK)).otherwise(text))
        text = text.to_series()
    return text.alias(column.name)


def _neutralised(column: pl.Series) -> pl.Series:
    formula = pl.any_horizontal(pl.col("t").str.starts_with(start) for start in FORMULA_STARTS)
    frame = pl.DataFrame({"t": column})
    return frame.select(
        pl.when(formula).then(pl.lit("'") + pl.col("t")).otherwise(pl.col("t"))
    ).to_series()


def _float_texts(column: pl.Series) -> pl.Series:
    """``str(value)`` of every float. Polars writes the same shortest round-trip digits as Python
    from 1e-4 up to 1e16; outside that (where Python writes an exponent), and for nan and inf,
    each value goes through Python's ``repr``."""
    text = column.cast(pl.String)
    magnitude = column.abs()
    odd = column.is_not_null() & ~((column == 0) | magnitude.is_between(1e-4, 1e16, closed="left"))
    at = odd.fill_null(False).arg_true()
    if at.len():
        text = text.scatter(at, [repr(value) for value in column.gather(at).to_list()])
    return text


def _cells(columns: list[str], row: tuple, suppressed: bool) -> Iterable[str]:
    """One row's cells as text: the definition :func:`export_csv` follows column by column."""
    for name, value in zip(columns, row, strict=True):
        if suppressed and name in NUMBERS:
            yield SUPPRESSED_MARK
        elif value is None:
            yield ""
        elif isinstance(value, bool):
            yield "true" if value else "false"
        elif isinstance(value, list):
            yield neutralise("|".join(str(item) for item in value))
        elif isinstance(value, str):
            yield neutralise(value)
        else:
            yield str(value)


def neutralise(text: str) -> str:
    """A text cell a spreadsheet would run as a formula, made inert."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
