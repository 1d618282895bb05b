"""Gate 2: the rows of all new files of a dataset, typed, checked together in one suite run.

Running a suite costs a fixed amount whatever its size, so a dataset's files are validated as one
batch (``_file`` and ``_row`` say where each row came from) and failures are attributed back to
their files. A cell the normaliser could not type is its failure alone: GX's failures on the same
(file, row, column) are dropped, so a cell is never reported twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from cpmds.contract import Contract, Dataset, load_contract
from cpmds.gates.findings import FILE_ID, ROW, ROW_FAILURE_SCHEMA, SUBMITTED
from cpmds.gates.gx_runner import run_suite
from cpmds.gates.registry import Registry, Rule, load_rules
from cpmds.gates.suites import columns_read, suite_path
from cpmds.ingest import PROBLEM_SEVERITY, Normalised
from cpmds.ingest.normalise import FILE_INDEX, NormalisedBatch
from cpmds.settings import PROJECT_ROOT

TYPING_FAILURE_SCHEMA = {
    FILE_ID: pl.Int64,
    ROW: pl.Int64,
    "column": pl.Utf8,
    "problem": pl.Utf8,
    "severity": pl.Utf8,
}

# pandas holds datetimes in nanoseconds, from 1677 to 2262. Dates outside are moved to these
# bounds: still before the contract's earliest date, or after any submission, so they fail the
# same rules.
_PANDAS_FIRST_DATE = dt.date(1678, 1, 1)
_PANDAS_LAST_DATE = dt.date(2262, 1, 1)


def gate_rows_batch(
    files: Sequence[tuple[int, dt.date, Normalised]],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The typed batch and typing failures of a dataset's files, each ``(file id, submission
    date, normalise_frame's result)``, with ``_file`` (and ``_submitted`` on the batch)."""
    if not files:
        raise ValueError("a batch needs at least one file (a nil return is a file)")
    batch = pl.concat(
        [
            normalised.frame.select(
                pl.lit(file_id, pl.Int64).alias(FILE_ID),
                pl.lit(_as_date(submitted), pl.Date).alias(SUBMITTED),
                pl.all(),
            )
            for file_id, submitted, normalised in files
        ],
        how="vertical",
    )
    failures = pl.concat(
        [
            normalised.failures.select(pl.lit(file_id, pl.Int64).alias(FILE_ID), pl.all())
            for file_id, _, normalised in files
        ],
        how="vertical",
    )
    return batch, failures.cast(TYPING_FAILURE_SCHEMA)  # type: ignore[arg-type]


def gate_rows_batch_of(
    file_ids: Sequence[int], submitted: Sequence[dt.date], normalised: NormalisedBatch
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`gate_rows_batch` from ``normalise_batch``'s result for the files ``file_ids``
    (submitted on ``submitted``), in the same order: the same two frames, without a query per
    file."""
    if not file_ids:
        raise ValueError("a batch needs at least one file (a nil return is a file)")
    ids = pl.Series(FILE_ID, list(file_ids), dtype=pl.Int64)
    dates = pl.Series(SUBMITTED, [_as_date(date) for date in submitted], dtype=pl.Date)
    index = pl.col(FILE_INDEX)
    batch = normalised.frame.select(
        pl.lit(ids).gather(index).alias(FILE_ID),
        pl.lit(dates).gather(index).alias(SUBMITTED),
        pl.exclude(FILE_INDEX),
    )
    failures = normalised.failures.select(
        pl.lit(ids).gather(index).alias(FILE_ID), pl.exclude(FILE_INDEX)
    )
    return batch, failures.cast(TYPING_FAILURE_SCHEMA)  # type: ignore[arg-type]


def run_gate_rows(
    dataset: Dataset,
    batch: pl.DataFrame,
    typing_failures: pl.DataFrame,
    contract: Contract | None = None,
    registry: Registry | None = None,
    root: Path = PROJECT_ROOT,
) -> pl.DataFrame:
    """Every row failure of ``batch`` (:data:`ROW_FAILURE_SCHEMA`), sorted by file, row, column
    and rule: the normaliser's ``typing_failures`` (with ``_file``) under their rule codes, and
    what the dataset's ``gate_rows`` suite finds, minus cells already failed in typing."""
    contract = contract or load_contract()
    registry = registry or load_rules()
    typed = typing_failure_rules(dataset, typing_failures, registry)
    if batch.height == 0:
        return _sorted(typed)
    suite = suite_path("gate_rows", dataset.id, root)
    frame = _pandas_frame(batch, [FILE_ID, ROW, *columns_read(suite)], contract)
    found = run_suite(suite, frame, [FILE_ID, ROW])
    suite_failures = (
        pl.concat(
            [_failure_rows(registry.by_code[failure.rule], failure.index) for failure in found],
            how="vertical",
        )
        if found
        else pl.DataFrame(schema=ROW_FAILURE_SCHEMA)
    )
    cells = [FILE_ID, ROW, "column"]
    suite_failures = suite_failures.join(typed.select(cells).unique(), on=cells, how="anti")
    return _sorted(pl.concat([typed, suite_failures], how="vertical").unique())


def typing_failure_rules(
    dataset: Dataset, typing_failures: pl.DataFrame, registry: Registry | None = None
) -> pl.DataFrame:
    """The normaliser's failures (``_file``, ``_row``, ``column``, ``problem``) as row failures
    under the rules of the same kind. Raises ``KeyError`` for a failure no rule covers."""
    registry = registry or load_rules()
    rules = pl.DataFrame(
        [
            {
                "column": rule.column,
                "problem": rule.kind,
                "rule": rule.code,
                "rule_severity": rule.severity,
                "message": rule.message,
            }
            for rule in registry.for_dataset(dataset.id, "rows")
            if rule.kind in PROBLEM_SEVERITY  # the normaliser's keys are rule kinds
        ],
        schema={
            "column": pl.Utf8,
            "problem": pl.Utf8,
            "rule": pl.Utf8,
            "rule_severity": pl.Utf8,
            "message": pl.Utf8,
        },
    )
    joined = typing_failures.select(FILE_ID, ROW, "column", "problem").join(
        rules, on=["column", "problem"], how="left"
    )
    uncovered = joined.filter(pl.col("rule").is_null()).select("column", "problem").unique()
    if uncovered.height:
        pairs = sorted(uncovered.iter_rows())
        raise KeyError(f"{dataset.id}: no rule for typing failures {pairs}")
    return joined.select(
        FILE_ID, ROW, "column", "rule", pl.col("rule_severity").alias("severity"), "message"
    ).cast(ROW_FAILURE_SCHEMA)  # type: ignore[arg-type]


def rule_for_problem(
    dataset: Dataset, column: str, problem: str, registry: Registry | None = None
) -> Rule:
    """The rule a normaliser failure key on a column stands for (``bad_date`` on ``end_date``)."""
    registry = registry or load_rules()
    for rule in registry.for_dataset(dataset.id, "rows"):
        if rule.kind == problem and rule.column == column:
            return rule
    raise KeyError(f"{dataset.id}: no rule for {problem} on {column}")


def _pandas_frame(batch: pl.DataFrame, columns: Sequence[str], contract: Contract):
    """``columns`` of ``batch`` in the types GX compares fastest (datetimes in ns; a multi-valued
    code column as text, which only its not-null check reads)."""
    deletion = contract.formats.deletion_column
    selected = []
    for name in dict.fromkeys(columns):
        dtype = batch.schema[name]
        column = pl.col(name)
        if dtype == pl.Date:
            column = column.clip(_PANDAS_FIRST_DATE, _PANDAS_LAST_DATE).cast(pl.Datetime("ns"))
        elif isinstance(dtype, pl.List):
            column = column.list.join("|")
        elif name == deletion:
            column = column.fill_null(False)
        selected.append(column.alias(name))
    return batch.select(selected).to_pandas()


def _failure_rows(rule: Rule, index: dict[str, list]) -> pl.DataFrame:
    rows = len(index[FILE_ID])
    return pl.DataFrame(
        {
            FILE_ID: pl.Series(index[FILE_ID], dtype=pl.Int64, strict=False),
            ROW: pl.Series(index[ROW], dtype=pl.Int64, strict=False),
            "column": [rule.column] * rows,
            "rule": [rule.code] * rows,
            "severity": [rule.severity] * rows,
            "message": [rule.message] * rows,
        },
        schema=ROW_FAILURE_SCHEMA,
    )


def _sorted(failures: pl.DataFrame) -> pl.DataFrame:
    return failures.sort(FILE_ID, ROW, "column", "rule")


def _as_date(submitted: dt.date) -> dt.date:
    return submitted.date() if isinstance(submitted, dt.datetime) else submitted
