"""What the gates report: findings that name a rule, a place and a fixed message, never a value."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from cpmds.gates.registry import Registry, Rule, load_rules
from cpmds.ingest.rejection import Rejection

FILE_ID = "_file"
ROW = "_row"
SUBMITTED = "_submitted"

FILE_FINDING_SCHEMA = {
    FILE_ID: pl.Int64,
    ROW: pl.Int64,
    "column": pl.Utf8,
    "position": pl.Int64,
    "rule": pl.Utf8,
    "severity": pl.Utf8,
    "message": pl.Utf8,
}
"""Gate 1 findings of many files. ``_row`` is the Excel row number for a row or cell finding;
``column`` is a contract column name (never a header as delivered); ``position`` is the file's
column number (1 is the first) for header findings."""

ROW_FAILURE_SCHEMA = {
    FILE_ID: pl.Int64,
    ROW: pl.Int64,
    "column": pl.Utf8,
    "rule": pl.Utf8,
    "severity": pl.Utf8,
    "message": pl.Utf8,
}
"""Gate 2 failures: one row per (file, row, column, rule)."""


@dataclass(frozen=True)
class Finding:
    """One gate 1 finding about one file."""

    rule: str
    severity: str
    message: str
    column: str | None = None
    row: int | None = None
    position: int | None = None

    @classmethod
    def of(
        cls,
        rule: Rule,
        column: str | None = None,
        row: int | None = None,
        position: int | None = None,
    ) -> Finding:
        return cls(rule.code, rule.severity, rule.message, column, row, position)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def rejection_finding(rejection: Rejection, registry: Registry | None = None) -> Finding:
    """The gate 1 finding for a file the path parser or the reader refused whole."""
    return Finding.of((registry or load_rules()).file_rule(rejection.reason))


def has_errors(findings: Iterable[Finding]) -> bool:
    """Whether the findings quarantine their file (warnings alone do not)."""
    return any(finding.is_error for finding in findings)


def findings_frame(findings_by_file: dict[int, Iterable[Finding]]) -> pl.DataFrame:
    """Findings of many files as one frame (:data:`FILE_FINDING_SCHEMA`)."""
    rows = [
        {
            FILE_ID: file_id,
            ROW: finding.row,
            "column": finding.column,
            "position": finding.position,
            "rule": finding.rule,
            "severity": finding.severity,
            "message": finding.message,
        }
        for file_id, findings in findings_by_file.items()
        for finding in findings
    ]
    return pl.DataFrame(rows, schema=FILE_FINDING_SCHEMA)
