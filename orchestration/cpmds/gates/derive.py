"""Which rules gates 1 and 2 enforce, worked out from the contract (pipeline.md, steps 2 and 4).

Each rule is identified by its dataset (None for the file rules common to all), the fields it
touches and its kind; :mod:`cpmds.gates.registry` gives it a stable code. Messages are fixed text:
they may name columns and the rule's parameters, never anything from a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from cpmds.contract import Column, Contract, Dataset
from cpmds.ingest.rejection import REJECTION_MESSAGES

Gate = Literal["file", "rows"]
Severity = Literal["error", "warning"]
RuleKey = tuple[str | None, tuple[str, ...], str]

# Checked on the file before or while it is read, beyond the rejections the reader names itself.
FILE_CHECK_KINDS: tuple[str, ...] = (
    "file_too_large",
    "xlsx_too_expanded",
    "row_too_large",
    "cell_too_large",
    "duplicate_column",
    "unknown_column",
    "too_many_error_rows",
    "not_a_file",
)
FILE_WARNING_KINDS = frozenset({"unknown_column"})

# Where the normaliser finds a row rule's failures, its problem key is the rule's kind.
ROW_WARNING_KINDS = frozenset({"chi_invalid"})

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_STRFTIME_WORDS = {"%Y": "YYYY", "%m": "MM", "%d": "DD"}


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the contract implies it, before it has a code."""

    gate: Gate
    severity: Severity
    dataset: str | None
    kind: str
    fields: tuple[str, ...]
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> RuleKey:
        return (self.dataset, self.fields, self.kind)


def derive_rules(contract: Contract) -> list[RuleSpec]:
    """Every rule of gates 1 and 2, file rules first, then each dataset's in contract order."""
    rules = list(_file_rules(contract))
    for dataset in contract.datasets:
        rules += _required_column_rules(dataset)
        rules += _row_rules(contract, dataset)
    keys = [rule.key for rule in rules]
    if len(set(keys)) != len(keys):
        raise ValueError("two derived rules share a (dataset, fields, kind)")
    return rules


def _file_rules(contract: Contract) -> Iterator[RuleSpec]:
    limits = contract.formats.limits
    threshold = contract.formats.gates["row_error_threshold"]
    for reason, message in REJECTION_MESSAGES.items():
        yield _file_rule(reason, message)
    messages = {
        "file_too_large": (
            f"the file is larger than the limit of {limits.file_bytes:,} bytes",
            {"file_bytes": limits.file_bytes},
        ),
        "xlsx_too_expanded": (
            f"the XLSX workbook declares contents of more than {limits.xlsx_expansion_ratio} "
            f"times its size or more than {limits.xlsx_expanded_bytes:,} bytes; it is refused "
            "unread",
            {
                "xlsx_expansion_ratio": limits.xlsx_expansion_ratio,
                "xlsx_expanded_bytes": limits.xlsx_expanded_bytes,
            },
        ),
        "row_too_large": (
            f"a row is longer than the limit of {limits.row_bytes:,} bytes",
            {"row_bytes": limits.row_bytes},
        ),
        "cell_too_large": (
            f"a cell is longer than the limit of {limits.cell_bytes:,} bytes",
            {"cell_bytes": limits.cell_bytes},
        ),
        "duplicate_column": ("a contract column appears more than once in the header", {}),
        "unknown_column": (
            "a header names no column of the contract; that column is dropped",
            {},
        ),
        "not_a_file": (
            "the path is not a regular file (a directory, a pipe or a device)",
            {},
        ),
        "too_many_error_rows": (
            f"more than {threshold * 100:g}% of the file's rows have errors; the file is "
            "quarantined whole",
            {"row_error_threshold": threshold},
        ),
    }
    assert set(messages) == set(FILE_CHECK_KINDS)
    for kind in FILE_CHECK_KINDS:
        message, params = messages[kind]
        yield _file_rule(kind, message, params)


def _file_rule(kind: str, message: str, params: dict[str, Any] | None = None) -> RuleSpec:
    severity: Severity = "warning" if kind in FILE_WARNING_KINDS else "error"
    return RuleSpec("file", severity, None, kind, (), message, params or {})


def _required_column_rules(dataset: Dataset) -> Iterator[RuleSpec]:
    for name in dataset.required_columns:
        yield RuleSpec(
            "file",
            "error",
            dataset.id,
            "required_column_missing",
            (name,),
            f"required column {name} is missing from the header",
        )


def _row_rules(contract: Contract, dataset: Dataset) -> Iterator[RuleSpec]:
    rows = _RowRules(contract, dataset)
    for column in dataset.columns:
        if not _IDENTIFIER.match(column.name):
            raise ValueError(f"{dataset.id}.{column.name}: suites need plain column names")
        yield from rows.for_column(column)
    yield rows.rule(
        "bad_bool",
        (contract.formats.deletion_column,),
        f"{contract.formats.deletion_column} is not a yes/no value ({rows.boolean_spellings})",
    )
    key = ", ".join(dataset.key)
    yield rows.rule(
        "key_not_unique",
        dataset.key,
        f"the key ({key}) is not unique within the file",
    )


class _RowRules:
    def __init__(self, contract: Contract, dataset: Dataset) -> None:
        self.contract = contract
        self.dataset = dataset
        spellings = contract.formats.booleans
        self.boolean_spellings = ", ".join((*spellings["true"], *spellings["false"]))

    def rule(self, kind: str, fields: tuple[str, ...], message: str, **params: Any) -> RuleSpec:
        severity: Severity = "warning" if kind in ROW_WARNING_KINDS else "error"
        return RuleSpec("rows", severity, self.dataset.id, kind, fields, message, params)

    def for_column(self, column: Column) -> Iterator[RuleSpec]:
        name = column.name
        if column.required:
            yield self.rule("required_missing", (name,), f"{name} is blank, but it is required")
        if column.required_with:
            other = column.required_with
            yield self.rule(
                "required_with_missing",
                (name, other),
                f"{name} is blank, but it is required when {other} is set",
            )
        if column.identifier == "chi":
            yield self.rule(
                "chi_invalid",
                (name,),
                f"{name} is not a valid CHI number (check digit or date of birth); it is "
                "treated as missing",
            )
        if column.type == "date":
            yield from self._date(column)
        elif column.type == "bool":
            yield self.rule(
                "bad_bool", (name,), f"{name} is not a yes/no value ({self.boolean_spellings})"
            )
        elif column.type == "integer":
            yield from self._integer(column)
        elif column.type in ("code", "codes"):
            yield from self._code(column)

    def _date(self, column: Column) -> Iterator[RuleSpec]:
        name = column.name
        formats = " or ".join(_date_words(f) for f in self.contract.formats.date_formats)
        yield self.rule("bad_date", (name,), f"{name} is not a date ({formats})")
        earliest = self.contract.formats.earliest_date.isoformat()
        yield self.rule(
            "date_too_early", (name,), f"{name} is before {earliest}", earliest=earliest
        )
        if not column.future_allowed:
            yield self.rule(
                "date_after_submission",
                (name,),
                f"{name} is after the file's submission date",
            )
        if column.not_before:
            other = column.not_before
            yield self.rule("before_other", (name, other), f"{name} is before {other}")

    def _integer(self, column: Column) -> Iterator[RuleSpec]:
        name = column.name
        yield self.rule("bad_integer", (name,), f"{name} is not a whole number")
        low, high = column.min, column.max
        if low is not None or high is not None:
            if low is not None and high is not None:
                message = f"{name} is not between {low} and {high}"
            elif low is not None:
                message = f"{name} is less than {low}"
            else:
                message = f"{name} is more than {high}"
            bounds = {"min": low, "max": high}
            yield self.rule(
                "out_of_range",
                (name,),
                message,
                **{key: value for key, value in bounds.items() if value is not None},
            )
        if column.at_most:
            other = column.at_most
            yield self.rule("above_other", (name, other), f"{name} is more than {other}")

    def _code(self, column: Column) -> Iterator[RuleSpec]:
        name = column.name
        code_list = column.code_list
        assert code_list is not None
        fails = "holds a code that is not" if column.type == "codes" else "is not a code"
        only = f" (only {', '.join(column.allowed_codes)} here)" if column.allowed_codes else ""
        yield self.rule(
            "bad_code",
            (name,),
            f"{name} {fails} in the {code_list} list{only}",
            code_list=code_list,
        )
        for other, allowed_with in sorted(code_conditions(self.contract, column).items()):
            if column.type == "codes":
                raise ValueError(f"{self.dataset.id}.{name}: conditions on multi-valued codes")
            codes_by_values: dict[tuple[str, ...], list[str]] = {}
            for code, values in allowed_with.items():
                codes_by_values.setdefault(values, []).append(code)
            terms = "; ".join(
                f"{', '.join(codes)} only with {', '.join(values)}"
                for values, codes in codes_by_values.items()
            )
            yield self.rule(
                "code_not_allowed_for",
                (name, other),
                f"{name} is not a code allowed with the row's {other} ({terms})",
            )


def code_conditions(contract: Contract, column: Column) -> dict[str, dict[str, tuple[str, ...]]]:
    """``{other column: {code: the other column's values it is allowed with}}`` for a coded
    column whose codes carry ``when`` conditions (codes.yaml)."""
    assert column.code_list is not None
    allowed = set(contract.allowed_codes(column))
    conditions: dict[str, dict[str, tuple[str, ...]]] = {}
    for code in contract.code_list_by_id[column.code_list].codes:
        if code.code not in allowed:
            continue
        for other, values in code.when.items():
            conditions.setdefault(other, {})[code.code] = tuple(values)
    return conditions


def _date_words(date_format: str) -> str:
    for directive, words in _STRFTIME_WORDS.items():
        date_format = date_format.replace(directive, words)
    return date_format
