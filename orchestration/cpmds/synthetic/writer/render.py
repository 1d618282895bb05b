"""Canonical record versions -> the cells a sender writes, with Polars expressions (no cell loops).

A CSV rendering is all text (null = missing); an XLSX rendering keeps dates and integers typed so
they become real Excel date and number cells.
"""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl

from cpmds.contract import CodeList, Column, Contract, Dataset
from cpmds.synthetic.writer.plan import DELETED
from cpmds.synthetic.writer.styles import SenderStyle, cased

DELIVERY = "_delivery"  # which delivery of the sender a row belongs to
TEAM_COLUMN = "team"
# Social work teams by Gaelic place name: Windows-1252 text that is not ASCII, one with a comma
# so that the file needs RFC 4180 quoting.
TEAM_NAMES = (
    "Sgioba Steòrnabhagh",
    "Òban",
    "Sgioba Phort Rìgh",
    "Sgioba Dhùn Èideann",
    "Sgioba Dhùn Dè",
    "Sgioba Ìle, Diùra",
)
COUNCIL_LIST = "COUNCIL"  # the code list Contract.code_list_by_id builds from the councils


def stable_fractions(keys: pl.Series, salt: str) -> np.ndarray:
    """A number in [0, 1) for each key, the same on every run (CRC-32, not Python's hash())."""
    prefix = salt.encode("utf-8")
    values = keys.cast(pl.Utf8).fill_null("").to_list()
    checksums = np.fromiter(
        (zlib.crc32(prefix + value.encode("utf-8")) for value in values),
        dtype=np.uint64,
        count=len(values),
    )
    return checksums / 2.0**32


def output_columns(
    dataset: Dataset, style: SenderStyle, contract: Contract, rng: np.random.Generator
) -> list[str]:
    """The columns a sender's file of ``dataset`` has, in the order the sender writes them."""
    names = list(dataset.column_names)
    if style.deleted_column:
        names.append(contract.formats.deletion_column)
    if style.team_column:
        names.append(TEAM_COLUMN)
    if style.shuffle_columns:
        names = [names[i] for i in rng.permutation(len(names))]
    return names


def code_spellings(code_list: CodeList, style: SenderStyle) -> dict[str, str]:
    """How the sender spells each canonical code (a synonym such as ``Male``, any case)."""
    if code_list.id == COUNCIL_LIST:
        return {}  # council codes keep their case; retired codes are drawn row by row instead
    spellings = {}
    for code in code_list.codes:
        spelling = code.synonyms[0] if style.use_synonyms and code.synonyms else code.code
        spellings[code.code] = cased(spelling, style.code_casing)
    return spellings


def _null_if_empty(expression: pl.Expr) -> pl.Expr:
    return pl.when(expression == "").then(None).otherwise(expression)


def _chi(expression: pl.Expr, style: SenderStyle) -> pl.Expr:
    if style.chi_style == "plain":
        return expression
    separator = " " if style.chi_style == "spaced" else "-"
    return (
        pl.when(expression.str.len_chars() == 10)
        .then(expression.str.slice(0, 6) + separator + expression.str.slice(6))
        .otherwise(expression)
    )


def _cell(
    column: Column,
    contract: Contract,
    style: SenderStyle,
    dataset: Dataset,
    retired_rows: pl.Series,
    csv: bool,
) -> pl.Expr:
    value = pl.col(column.name)
    if column.type == "date":
        return value.dt.strftime(style.date_format + style.time_suffix) if csv else value
    if column.type == "integer":
        return value.cast(pl.Utf8) if csv else value
    if column.type == "bool":
        return (
            pl.when(value)
            .then(pl.lit(style.true_token))
            .when(value.not_())
            .then(pl.lit(style.false_token))
            .otherwise(None)
        )
    if column.type in ("code", "codes"):
        assert column.code_list is not None
        code_list = contract.code_list_by_id[column.code_list]
        spellings = code_spellings(code_list, style)
        if column.type == "codes":
            joined = value.list.eval(pl.element().replace(spellings)).list.join(
                style.multi_separator
            )
            return _null_if_empty(joined)
        if code_list.id == COUNCIL_LIST:
            retired = {
                council.code: council.retired_codes[0]
                for council in contract.reference.councils
                if council.retired_codes
            }
            return (
                pl.when(pl.lit(retired_rows) & value.is_in(list(retired)))
                .then(value.replace(retired))
                .otherwise(value)
            )
        return value.replace(spellings)
    if column.name in dataset.identifier_columns("chi"):
        return _chi(_null_if_empty(value), style)
    return _null_if_empty(value)


def render_cells(
    frame: pl.DataFrame,
    dataset: Dataset,
    style: SenderStyle,
    contract: Contract,
    columns: list[str],
    salt: str,
    retired_code_share: float,
) -> pl.DataFrame:
    """``frame`` (canonical columns, ``_deleted``, ``_delivery``) as the sender's cells.

    Per-record choices (a retired council code, a team) hang on the record's key, not on its row,
    so that a record reads the same in a first delivery and in the file correcting it.
    """
    csv = style.extension == "csv"
    keys = frame.get_column(dataset.key[0])
    has_council = any(c.code_list == COUNCIL_LIST for c in dataset.columns)
    retired_rows = pl.Series(
        stable_fractions(keys, f"{salt}/retired") < retired_code_share
        if has_council and retired_code_share > 0
        else np.zeros(frame.height, dtype=bool),
        dtype=pl.Boolean,
    )
    if style.team_column:
        picks = (stable_fractions(keys, f"{salt}/team") * len(TEAM_NAMES)).astype(np.int64)
        team = pl.Series(np.array(TEAM_NAMES, dtype=object)[picks], dtype=pl.Utf8)
    else:
        team = pl.Series([None] * frame.height, dtype=pl.Utf8)
    expressions = {
        column.name: _cell(column, contract, style, dataset, retired_rows, csv).alias(column.name)
        for column in dataset.columns
    }
    deletion = contract.formats.deletion_column
    not_deleted = None if style.blank_when_not_deleted else style.false_token
    expressions[deletion] = (
        pl.when(pl.col(DELETED))
        .then(pl.lit(style.true_token))
        .otherwise(pl.lit(not_deleted, dtype=pl.Utf8))
        .alias(deletion)
    )
    expressions[TEAM_COLUMN] = pl.lit(team).alias(TEAM_COLUMN)
    return frame.select(*(expressions[name] for name in columns), pl.col(DELIVERY))
