"""Gate 3, marts (pipeline.md, step 7): the rules a built warehouse passes before it is published.

A plain function, :func:`check_marts`, opens the built warehouse read-only and runs every rule of
:data:`MARTS_RULES`; the result says whether publication may go on (no error-severity rule failed)
and, per rule, how many rows failed and up to five example keys. Messages are fixed text (they may
name columns and the gate's settings), never a value from the data.

Two kinds of rule:

- ``suite``: row rules over ``marts.indicator_values``, kept as a Great Expectations suite
  (``expectations/gate_marts/indicator_values.json``, generated here and written by
  ``cpmds suites`` with the suites of gates 1 and 2, each expectation carrying its rule's code).
  Where a rule depends on the indicator catalogue (its ids, units and denominator kinds), the suite
  is generated from it and goes stale when the catalogue changes.
- ``sql``: rules across tables or periods that a row expectation cannot express, run in DuckDB.

The rules (codes never change; a retired code is never reused):

MART-001  numerator is negative.
MART-002  denominator is negative.
MART-003  a percentage, or a bound of its interval, is outside 0-100.
MART-004  a rate per 1,000 is negative or above 1,000.
MART-005  the interval of a percentage or a rate is not ordered (ci_lower <= value <= ci_upper).
MART-006  the key (indicator_id, area_type, area_code, period_type, period_label, breakdown,
          breakdown_value) is not unique.
MART-007  a count (unit ``count`` or ``distinct_children``) has no value.
MART-008  numerator is missing (every row carries its count, interface.md).
MART-009  indicator_id is not an indicator of the catalogue.
MART-010  unit is not the unit the catalogue gives the indicator.
MART-011  a denominator is given for an indicator whose catalogue denominator is none.
MART-012  a covered cell is missing: a computable (indicator, area, period) of
          ``intermediate.int_indicator_coverage`` has no row in ``indicator_values``.
MART-013  a covered cell lacks a row the catalogue lists for its indicator
          (``reference.ref_indicator_rows``); cells missing whole are MART-012's only.
MART-014  the register does not reconcile for a council and period of ``marts.dim_period``:
          registration records (``marts.fct_registrations``) open at the period's end differ from
          those open at its start (the end of the day before its first day), plus those registered
          in it, minus those deregistered in it. A record is open on a day when it was registered
          on or before it and not deregistered on or before it (as MDS19 counts the register); a
          record registered and deregistered inside the period counts in both. Valid records
          always reconcile: a failure means a record the counts cannot place (deregistered before
          it was registered, or with no registration date).
MART-015  (warning) a count's total row (unit ``count`` or ``distinct_children``) fell by more than
          the contract's ``volume_fall_ratio`` against the previous period of the same type (the
          one ending the day before it starts), where that had at least
          ``volume_fall_min_previous``.
MART-016  (warning) the same fall against the same cell in the last published warehouse (checked
          only when it is given).

Numbers are compared as stored, except that value, ci_lower and ci_upper are rounded to
:data:`DECIMALS` places first: an interval formula's floating-point noise (a Wilson bound of
-4e-15 at 0%) is not a failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import duckdb

from cpmds.catalogue import INDICATOR_VALUE_KEY, Catalogue, load_catalogue
from cpmds.contract import load_contract
from cpmds.gates.derive import Severity
from cpmds.gates.suites import (
    _GX_SEVERITY,
    _NAMESPACE,
    MARTS_GATE,
    SUITES_RELATIVE,
    _compare,
    _when,
    render_suite,
)
from cpmds.settings import PROJECT_ROOT

if TYPE_CHECKING:
    import pandas as pd

TABLE = "marts.indicator_values"
SUITE_NAME = f"{MARTS_GATE}__indicator_values"
KEY = INDICATOR_VALUE_KEY
CELL = KEY[:5]
MAX_EXAMPLES = 5
DECIMALS = 9
ROW_INDEX = "_row"
TOTAL = "total"
COUNT_UNITS = ("count", "distinct_children")
INTERVAL_UNITS = ("percent", "rate_per_1000")

Check = Literal["suite", "sql"]


@dataclass(frozen=True)
class MartsRule:
    code: str
    severity: Severity
    message: str
    fields: tuple[str, ...]
    check: Check
    """``suite``: an expectation of the GX suite; ``sql``: a query across tables or periods."""


def _settings() -> tuple[float, int]:
    gates = load_contract().formats.gates
    return float(gates["volume_fall_ratio"]), int(gates["volume_fall_min_previous"])


_FALL_RATIO, _FALL_MIN_PREVIOUS = _settings()
_FALL = f"by more than {_FALL_RATIO * 100:g}%"
_HAD = f"which had at least {_FALL_MIN_PREVIOUS}"

MARTS_RULES: tuple[MartsRule, ...] = (
    MartsRule("MART-001", "error", "numerator is negative", ("numerator",), "suite"),
    MartsRule("MART-002", "error", "denominator is negative", ("denominator",), "suite"),
    MartsRule(
        "MART-003",
        "error",
        "a percentage or a bound of its interval is outside 0-100",
        ("value", "ci_lower", "ci_upper"),
        "suite",
    ),
    MartsRule(
        "MART-004",
        "error",
        "a rate per 1,000 is negative or above 1,000",
        ("value",),
        "suite",
    ),
    MartsRule(
        "MART-005",
        "error",
        "the interval of a percentage or rate is not ordered (ci_lower <= value <= ci_upper)",
        ("ci_lower", "value", "ci_upper"),
        "suite",
    ),
    MartsRule(
        "MART-006",
        "error",
        "the key (indicator, area, period, breakdown and its value) is not unique",
        KEY,
        "suite",
    ),
    MartsRule(
        "MART-007",
        "error",
        "a count or distinct-children indicator has no value",
        ("value",),
        "suite",
    ),
    MartsRule("MART-008", "error", "numerator is missing", ("numerator",), "suite"),
    MartsRule(
        "MART-009",
        "error",
        "indicator_id is not an indicator of the catalogue",
        ("indicator_id",),
        "suite",
    ),
    MartsRule(
        "MART-010",
        "error",
        "unit is not the unit the catalogue gives the indicator",
        ("unit",),
        "suite",
    ),
    MartsRule(
        "MART-011",
        "error",
        "a denominator is given for an indicator the catalogue gives none",
        ("denominator",),
        "suite",
    ),
    MartsRule(
        "MART-012",
        "error",
        "a covered cell (computable indicator, area and period) has no rows",
        CELL,
        "sql",
    ),
    MartsRule(
        "MART-013",
        "error",
        "a covered cell lacks a row (breakdown value) the catalogue lists for its indicator",
        KEY,
        "sql",
    ),
    MartsRule(
        "MART-014",
        "error",
        "the register does not reconcile for a council and period: registrations open at its "
        "end differ from those open at its start plus those registered in it minus those "
        "deregistered in it",
        ("council_code", "period_type", "period_label"),
        "sql",
    ),
    MartsRule(
        "MART-015",
        "warning",
        f"a count (total row) fell {_FALL} against the previous period of the same type, {_HAD}",
        ("numerator",),
        "sql",
    ),
    MartsRule(
        "MART-016",
        "warning",
        f"a count (total row) fell {_FALL} against the last published value of the cell, {_HAD}",
        ("numerator",),
        "sql",
    ),
)
RULE_BY_CODE = {rule.code: rule for rule in MARTS_RULES}


class CellKey(NamedTuple):
    """Where a rule failed; a field that does not apply (a council's register) is None."""

    indicator_id: str | None
    area_type: str | None
    area_code: str | None
    period_type: str | None
    period_label: str | None
    breakdown: str | None
    breakdown_value: str | None


@dataclass(frozen=True)
class RuleOutcome:
    code: str
    severity: Severity
    message: str
    failing: int
    """How many rows (cells, councils and periods for the cross-table rules) failed."""
    examples: tuple[CellKey, ...] = ()
    """Up to :data:`MAX_EXAMPLES` keys of failing rows, in key order."""
    checked: bool = True
    """False for MART-016 when no previous warehouse was given."""

    @property
    def failed(self) -> bool:
        return self.failing > 0

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class MartsGateResult:
    passed: bool
    """False when any error-severity rule failed (warnings never block)."""
    outcomes: tuple[RuleOutcome, ...]
    """One per rule of :data:`MARTS_RULES`, in its order."""

    def outcome(self, code: str) -> RuleOutcome:
        return next(outcome for outcome in self.outcomes if outcome.code == code)

    @property
    def failures(self) -> tuple[RuleOutcome, ...]:
        return tuple(outcome for outcome in self.outcomes if outcome.failed)

    @property
    def errors(self) -> tuple[RuleOutcome, ...]:
        return tuple(outcome for outcome in self.failures if outcome.is_error)

    @property
    def warnings(self) -> tuple[RuleOutcome, ...]:
        return tuple(outcome for outcome in self.failures if not outcome.is_error)


def check_marts(warehouse: Path, previous: Path | None = None) -> MartsGateResult:
    """Run gate 3 over the built ``warehouse``; ``previous`` is the last published warehouse (for
    MART-016). Raises when a table is missing or the suite cannot run: the pipeline's problem."""
    from cpmds.gates.gx_runner import run_suite

    counted: dict[str, tuple[int, tuple[CellKey, ...]]] = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        frame = _values_frame(con)
        failing_rows: dict[str, set[int]] = {}
        for failure in run_suite(marts_suite_path(), frame, [ROW_INDEX]):
            failing_rows.setdefault(failure.rule, set()).update(failure.index[ROW_INDEX])
        for code, rows in failing_rows.items():
            counted[code] = (len(rows), _examples_of_rows(frame, rows))
        checks = {
            "MART-012": _MISSING_CELLS,
            "MART-013": _MISSING_ROWS,
            "MART-014": _UNRECONCILED_REGISTER,
            "MART-015": _FALL_AGAINST_PREVIOUS_PERIOD,
        }
        if previous is not None:
            _attach_previous(con, previous)
            checks["MART-016"] = _FALL_AGAINST_PUBLISHED
        for code, query in checks.items():
            counted[code] = _failing_keys(con, query)
    finally:
        con.close()

    outcomes = []
    for rule in MARTS_RULES:
        checked = rule.code != "MART-016" or previous is not None
        failing, examples = counted.get(rule.code, (0, ()))
        outcomes.append(
            RuleOutcome(rule.code, rule.severity, rule.message, failing, examples, checked)
        )
    passed = not any(outcome.failed and outcome.is_error for outcome in outcomes)
    return MartsGateResult(passed=passed, outcomes=tuple(outcomes))


# --- the suite ------------------------------------------------------------------------------


def marts_suite_path(root: Path = PROJECT_ROOT) -> Path:
    return root / SUITES_RELATIVE / MARTS_GATE / "indicator_values.json"


def render_marts_suites(root: Path = PROJECT_ROOT) -> dict[Path, str]:
    """The suite files of gate 3 under ``root`` and their text (for ``cpmds suites``)."""
    return {marts_suite_path(root): render_suite(build_marts_suite())}


def build_marts_suite(catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The suite over ``marts.indicator_values`` as GX's JSON, deterministic (ids are uuid5 of
    names), each expectation carrying its rule's code and severity in ``meta``."""
    expectations = list(_suite_expectations(catalogue or load_catalogue()))
    counts: dict[str, int] = {}
    for expectation in expectations:
        code = expectation["meta"]["rule"]
        counts[code] = counts.get(code, 0) + 1
        expectation["id"] = str(uuid.uuid5(_NAMESPACE, f"{SUITE_NAME}/{code}/{counts[code]}"))
    in_suite = {rule.code for rule in MARTS_RULES if rule.check == "suite"}
    if set(counts) != in_suite:
        raise ValueError("every suite rule of gate 3, and only they, needs an expectation")
    return {
        "expectations": expectations,
        "id": str(uuid.uuid5(_NAMESPACE, SUITE_NAME)),
        "meta": {
            "gate": MARTS_GATE,
            "generated_by": "cpmds suites",
            "great_expectations_version": version("great-expectations"),
            "table": TABLE,
        },
        "name": SUITE_NAME,
        "notes": None,
    }


def _expect(code: str, kind: str, **kwargs: Any) -> dict[str, Any]:
    rule = RULE_BY_CODE[code]
    assert rule.check == "suite", code
    return {
        "kwargs": kwargs,
        "meta": {"rule": rule.code, "severity": rule.severity},
        "severity": _GX_SEVERITY[rule.severity],
        "type": kind,
    }


def _unit_is(*units: str) -> dict[str, Any]:
    if len(units) == 1:
        return _when(_compare("unit", "==", units[0]))
    return _when(_compare("unit", "IN", list(units)))


def _indicator_in(ids: Iterable[str]) -> dict[str, Any]:
    return _when(_compare("indicator_id", "IN", list(ids)))


def _suite_expectations(catalogue: Catalogue) -> Iterator[dict[str, Any]]:
    between = "expect_column_values_to_be_between"
    not_null = "expect_column_values_to_not_be_null"
    pair = "expect_column_pair_values_a_to_be_greater_than_b"
    yield _expect("MART-001", between, column="numerator", min_value=0)
    yield _expect("MART-002", between, column="denominator", min_value=0)
    for column in ("value", "ci_lower", "ci_upper"):
        yield _expect(
            "MART-003", between, column=column, min_value=0, max_value=100, **_unit_is("percent")
        )
    rates = _unit_is("rate_per_1000")
    yield _expect("MART-004", between, column="value", min_value=0, max_value=1000, **rates)
    for larger, smaller in (("value", "ci_lower"), ("ci_upper", "value")):
        yield _expect(
            "MART-005",
            pair,
            column_A=larger,
            column_B=smaller,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            **_unit_is(*INTERVAL_UNITS),
        )
    yield _expect(
        "MART-006",
        "expect_compound_columns_to_be_unique",
        column_list=list(KEY),
        ignore_row_if="never",
    )
    yield _expect("MART-007", not_null, column="value", **_unit_is(*COUNT_UNITS))
    yield _expect("MART-008", not_null, column="numerator")
    yield _expect(
        "MART-009",
        "expect_column_values_to_be_in_set",
        column="indicator_id",
        value_set=[indicator.id for indicator in catalogue.indicators],
    )
    by_unit: dict[str, list[str]] = {}
    for indicator in catalogue.indicators:
        by_unit.setdefault(indicator.unit, []).append(indicator.id)
    for unit, ids in sorted(by_unit.items()):
        yield _expect(
            "MART-010",
            "expect_column_values_to_be_in_set",
            column="unit",
            value_set=[unit],
            **_indicator_in(ids),
        )
    without = _indicator_in(i.id for i in catalogue.indicators if i.denominator.kind == "none")
    yield _expect("MART-011", "expect_column_values_to_be_null", column="denominator", **without)


# --- running it -----------------------------------------------------------------------------


_ROUNDED = ("value", "ci_lower", "ci_upper")


def _values_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The columns the suite reads, in key order, with a row index (``_row``, from 0) that names
    failing rows; value and its bounds rounded to :data:`DECIMALS` places."""
    rounded = ", ".join(f"round({name}, {DECIMALS}) as {name}" for name in _ROUNDED)
    key = ", ".join(KEY)
    query = f"select {key}, unit, numerator, denominator, {rounded} from {TABLE} order by {key}"
    frame = con.sql(query).pl()
    return frame.with_row_index(ROW_INDEX).cast({ROW_INDEX: int}).to_pandas()


def _examples_of_rows(frame: pd.DataFrame, rows: Iterable[int]) -> tuple[CellKey, ...]:
    keys = frame[list(KEY)]
    examples: list[CellKey] = []
    for row in sorted(rows):
        key = CellKey(*(_text(value) for value in keys.iloc[row]))
        if key not in examples:
            examples.append(key)
            if len(examples) == MAX_EXAMPLES:
                break
    return tuple(examples)


def _text(value: Any) -> str | None:
    return None if value is None or value != value else str(value)  # NaN != NaN


def _failing_keys(
    con: duckdb.DuckDBPyConnection, query: tuple[str, Sequence[Any]]
) -> tuple[int, tuple[CellKey, ...]]:
    """How many rows the query returns and the first distinct keys among them (its columns are
    those of :class:`CellKey`, in order)."""
    text, parameters = query
    rows = con.execute(text, list(parameters)).fetchall()
    examples: list[CellKey] = []
    for row in rows:
        key = CellKey(*row)
        if key not in examples:
            examples.append(key)
            if len(examples) == MAX_EXAMPLES:
                break
    return len(rows), tuple(examples)


_PREVIOUS = "previous_published"


def _attach_previous(con: duckdb.DuckDBPyConnection, previous: Path) -> None:
    if not previous.is_file():
        raise FileNotFoundError(f"{previous}: the previous published warehouse is not a file")
    path = str(previous).replace("'", "''")
    con.execute(f"attach '{path}' as {_PREVIOUS} (read_only)")


_CELL_COLUMNS = ", ".join(CELL)
_KEY_COLUMNS = ", ".join(KEY)
_COVERED_CELLS = f"""
    covered as (
        select distinct {_CELL_COLUMNS}
        from intermediate.int_indicator_coverage
        where computable
    )"""

_MISSING_CELLS = (
    f"""
    with {_COVERED_CELLS}
    select {_CELL_COLUMNS}, null as breakdown, null as breakdown_value
    from covered
    anti join marts.indicator_values using ({_CELL_COLUMNS})
    order by {_CELL_COLUMNS}
    """,
    (),
)

_MISSING_ROWS = (
    f"""
    with {_COVERED_CELLS},
    wanted as (
        select covered.*, listed.breakdown, listed.breakdown_value
        from covered
        semi join marts.indicator_values using ({_CELL_COLUMNS})
        inner join reference.ref_indicator_rows as listed using (indicator_id)
    )
    select {_KEY_COLUMNS}
    from wanted
    anti join marts.indicator_values using ({_KEY_COLUMNS})
    order by {_KEY_COLUMNS}
    """,
    (),
)

# A record is open on a day when it was registered on or before it and not deregistered on or
# before it; "open at the start" is open at the end of the day before the period's first day.
_UNRECONCILED_REGISTER = (
    """
    with counts as (
        select
            registrations.council_code,
            periods.period_type,
            periods.period_label,
            periods.period_start,
            count(*) filter (
                where registration_date <= periods.period_end
                and (deregistration_date is null or deregistration_date > periods.period_end)
            ) as open_at_end,
            count(*) filter (
                where registration_date < periods.period_start
                and (deregistration_date is null or deregistration_date >= periods.period_start)
            ) as open_at_start,
            count(*) filter (
                where registration_date between periods.period_start and periods.period_end
            ) as registered,
            count(*) filter (
                where deregistration_date between periods.period_start and periods.period_end
            ) as deregistered
        from marts.fct_registrations as registrations
        cross join marts.dim_period as periods
        group by all
    )
    select
        null as indicator_id,
        'council' as area_type,
        council_code as area_code,
        period_type,
        period_label,
        null as breakdown,
        null as breakdown_value
    from counts
    where open_at_end <> open_at_start + registered - deregistered
    order by council_code, period_type, period_start
    """,
    (),
)


def _count_totals(table: str) -> str:
    units = ", ".join(f"'{unit}'" for unit in COUNT_UNITS)
    return f"""
        select {_CELL_COLUMNS}, period_start, period_end, numerator
        from {table}
        where breakdown = '{TOTAL}' and breakdown_value = '{TOTAL}'
        and unit in ({units}) and numerator is not null"""


# A fall "by more than the ratio": previous - current > ratio * previous.
_FELL = "earlier.numerator >= ? and earlier.numerator - later.numerator > ? * earlier.numerator"

_FALL_AGAINST_PREVIOUS_PERIOD = (
    f"""
    with totals as ({_count_totals(TABLE)})
    select {", ".join(f"later.{name}" for name in CELL)}, '{TOTAL}', '{TOTAL}'
    from totals as later
    inner join totals as earlier
        on later.indicator_id = earlier.indicator_id
        and later.area_type = earlier.area_type
        and later.area_code = earlier.area_code
        and later.period_type = earlier.period_type
        and earlier.period_end + 1 = later.period_start
    where {_FELL}
    order by {", ".join(f"later.{name}" for name in CELL)}
    """,
    (_FALL_MIN_PREVIOUS, _FALL_RATIO),
)

_FALL_AGAINST_PUBLISHED = (
    f"""
    with
        later as ({_count_totals(TABLE)}),
        earlier as ({_count_totals(_PREVIOUS + "." + TABLE)})
    select {_CELL_COLUMNS}, '{TOTAL}', '{TOTAL}'
    from later
    inner join earlier using ({_CELL_COLUMNS})
    where {_FELL}
    order by {_CELL_COLUMNS}
    """,
    (_FALL_MIN_PREVIOUS, _FALL_RATIO),
)
