"""Whether a file's rows go on: quarantined whole when too many of them have errors (pipeline.md,
step 4). Warnings never count; a row with several errors counts once."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from cpmds.contract import load_contract
from cpmds.gates.findings import FILE_ID, ROW
from cpmds.gates.registry import Registry, load_rules

DECISION_SCHEMA = {
    FILE_ID: pl.Int64,
    "rows": pl.Int64,
    "error_rows": pl.Int64,
    "warning_rows": pl.Int64,
    "error_share": pl.Float64,
    "quarantined": pl.Boolean,
    "rule": pl.Utf8,
    "message": pl.Utf8,
}


def decide(
    files: pl.DataFrame | Mapping[int, int],
    failures: pl.DataFrame,
    threshold: float | None = None,
    registry: Registry | None = None,
) -> pl.DataFrame:
    """One row per file (:data:`DECISION_SCHEMA`): its rows, the rows with at least one error,
    the rows with warnings only, and whether the error rows are above ``threshold`` (default:
    the contract's ``row_error_threshold``) of its rows, with the rule and message when so.

    ``files`` is ``{file id: rows}`` or a frame with ``_file`` and ``rows``; ``failures`` is
    gate 2's (:data:`ROW_FAILURE_SCHEMA`). A file with no rows (a nil return) has no errors.
    """
    if threshold is None:
        threshold = load_contract().formats.gates["row_error_threshold"]
    rule = (registry or load_rules()).file_rule("too_many_error_rows")
    if isinstance(files, Mapping):
        files = pl.DataFrame(
            {FILE_ID: list(files), "rows": list(files.values())},
            schema={FILE_ID: pl.Int64, "rows": pl.Int64},
        )
    per_row = failures.group_by(FILE_ID, ROW).agg(
        (pl.col("severity") == "error").any().alias("has_error")
    )
    per_file = per_row.group_by(FILE_ID).agg(
        pl.col("has_error").sum().cast(pl.Int64).alias("error_rows"),
        (~pl.col("has_error")).sum().cast(pl.Int64).alias("warning_rows"),
    )
    decided = (
        files.select(pl.col(FILE_ID).cast(pl.Int64), pl.col("rows").cast(pl.Int64))
        .join(per_file, on=FILE_ID, how="left")
        .with_columns(pl.col("error_rows", "warning_rows").fill_null(0))
        .with_columns(
            pl.when(pl.col("rows") > 0)
            .then(pl.col("error_rows") / pl.col("rows"))
            .otherwise(0.0)
            .alias("error_share")
        )
        .with_columns((pl.col("error_share") > threshold).alias("quarantined"))
        .with_columns(
            pl.when("quarantined").then(pl.lit(rule.code)).alias("rule"),
            pl.when("quarantined").then(pl.lit(rule.message)).alias("message"),
        )
    )
    return decided.select(list(DECISION_SCHEMA)).cast(DECISION_SCHEMA).sort(FILE_ID)  # type: ignore[arg-type]
