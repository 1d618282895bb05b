"""Gate 3 (marts) on small hand-made warehouses: each fault fails its rule with an example key."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from cpmds.contract import load_contract
from cpmds.gates.marts import (
    MARTS_RULES,
    MAX_EXAMPLES,
    CellKey,
    MartsGateResult,
    build_marts_suite,
    check_marts,
    marts_suite_path,
)

COUNCIL = "S12000005"
MONTHS = {
    "2024-01": (dt.date(2024, 1, 1), dt.date(2024, 1, 31)),
    "2024-02": (dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
    "2024-03": (dt.date(2024, 3, 1), dt.date(2024, 3, 31)),
}
QUARTER = ("2024-Q1", dt.date(2024, 1, 1), dt.date(2024, 3, 31))
# MDS04 is a count, MDS03 a percentage, MDS01 a rate per 1,000 with a source breakdown.
LISTED = {
    "MDS04": [("total", "total")],
    "MDS03": [("total", "total")],
    "MDS01": [("total", "total"), ("source", "POL")],
}

Tables = dict[str, list[dict[str, Any]]]


def _value_row(indicator: str, label: str, breakdown: str, code: str) -> dict[str, Any]:
    start, end = MONTHS[label]
    row = {
        "indicator_id": indicator,
        "area_code": COUNCIL,
        "area_type": "council",
        "period_type": "month",
        "period_label": label,
        "period_start": start,
        "period_end": end,
        "breakdown": breakdown,
        "breakdown_value": code,
    }
    if indicator == "MDS04":
        return {**row, "numerator": 25, "denominator": None, "value": 25.0, "unit": "count"}
    if indicator == "MDS03":
        measures = (5, 10, 50.0, 23.66, 76.34)
        unit = "percent"
    else:
        measures = (3, 1000, 3.0, 0.6, 8.77)
        unit = "rate_per_1000"
    numerator, denominator, value, lower, upper = measures
    return {
        **row,
        "numerator": numerator,
        "denominator": denominator,
        "value": value,
        "ci_lower": lower,
        "ci_upper": upper,
        "unit": unit,
    }


def _clean() -> Tables:
    """Every covered cell with every row the catalogue lists, a register that reconciles, and
    counts that hold steady; one cell not computable (and so, rightly, absent)."""
    values = [
        _value_row(indicator, label, breakdown, code)
        for indicator, rows in LISTED.items()
        for label in MONTHS
        for breakdown, code in rows
    ]
    coverage = [
        {
            "indicator_id": indicator,
            "area_type": "council",
            "area_code": COUNCIL,
            "period_type": "month",
            "period_label": label,
            "computable": True,
        }
        for indicator in LISTED
        for label in MONTHS
    ]
    coverage.append({**coverage[0], "area_code": "S12000006", "computable": False})
    listed = [
        {"indicator_id": indicator, "breakdown": breakdown, "breakdown_value": code}
        for indicator, rows in LISTED.items()
        for breakdown, code in rows
    ]
    periods = [
        {"period_type": "month", "period_label": label, "period_start": start, "period_end": end}
        for label, (start, end) in MONTHS.items()
    ]
    label, start, end = QUARTER
    periods.append(
        {"period_type": "quarter", "period_label": label, "period_start": start, "period_end": end}
    )
    registrations = [
        _registration("2023-11-01", "2024-02-29"),
        _registration("2023-12-15", None),
        _registration("2024-01-10", "2024-01-20"),
        _registration("2024-01-31", "2024-01-31"),
        _registration("2024-02-01", "2024-03-05"),
        _registration("2024-03-31", None),
    ]
    return {
        "marts.indicator_values": values,
        "intermediate.int_indicator_coverage": coverage,
        "reference.ref_indicator_rows": listed,
        "marts.dim_period": periods,
        "marts.fct_registrations": registrations,
    }


def _registration(registered: str | None, deregistered: str | None) -> dict[str, Any]:
    def date(text: str | None) -> dt.date | None:
        return dt.date.fromisoformat(text) if text else None

    return {
        "council_code": COUNCIL,
        "registration_date": date(registered),
        "deregistration_date": date(deregistered),
    }


SCHEMAS: dict[str, dict[str, Any]] = {
    "marts.indicator_values": {
        "indicator_id": pl.Utf8,
        "area_code": pl.Utf8,
        "area_type": pl.Utf8,
        "period_type": pl.Utf8,
        "period_label": pl.Utf8,
        "period_start": pl.Date,
        "period_end": pl.Date,
        "breakdown": pl.Utf8,
        "breakdown_value": pl.Utf8,
        "numerator": pl.Int64,
        "denominator": pl.Int64,
        "value": pl.Float64,
        "ci_lower": pl.Float64,
        "ci_upper": pl.Float64,
        "unit": pl.Utf8,
    },
    "intermediate.int_indicator_coverage": {
        "indicator_id": pl.Utf8,
        "area_type": pl.Utf8,
        "area_code": pl.Utf8,
        "period_type": pl.Utf8,
        "period_label": pl.Utf8,
        "computable": pl.Boolean,
    },
    "reference.ref_indicator_rows": {
        "indicator_id": pl.Utf8,
        "breakdown": pl.Utf8,
        "breakdown_value": pl.Utf8,
    },
    "marts.dim_period": {
        "period_type": pl.Utf8,
        "period_label": pl.Utf8,
        "period_start": pl.Date,
        "period_end": pl.Date,
    },
    "marts.fct_registrations": {
        "council_code": pl.Utf8,
        "registration_date": pl.Date,
        "deregistration_date": pl.Date,
    },
}


def _write(path: Path, tables: Tables) -> Path:
    con = duckdb.connect(str(path))
    try:
        for table, rows in tables.items():
            con.execute(f"create schema if not exists {table.split('.')[0]}")
            frame = pl.DataFrame(rows, schema=SCHEMAS[table], orient="row").to_arrow()
            con.register("frame", frame)
            con.execute(f"create table {table} as select * from frame")
            con.unregister("frame")
    finally:
        con.close()
    return path


def _warehouse(tmp_path: Path, change: Callable[[Tables], None] | None = None, name: str = "w"):
    tables = _clean()
    if change is not None:
        change(tables)
    return _write(tmp_path / f"{name}.duckdb", tables)


def _row(tables: Tables, indicator: str, label: str, breakdown: str = "total") -> dict[str, Any]:
    return next(
        row
        for row in tables["marts.indicator_values"]
        if row["indicator_id"] == indicator
        and row["period_label"] == label
        and row["breakdown"] == breakdown
    )


def _key(indicator: str | None, label: str, breakdown: str | None = "total", value=None) -> CellKey:
    if breakdown == "total" and value is None:
        value = "total"
    return CellKey(indicator, "council", COUNCIL, "month", label, breakdown, value)


def _failed(result: MartsGateResult) -> dict[str, tuple[int, tuple[CellKey, ...]]]:
    return {outcome.code: (outcome.failing, outcome.examples) for outcome in result.failures}


# --- the rules ------------------------------------------------------------------------------


def test_rules_have_stable_unique_codes_fixed_messages_and_a_severity() -> None:
    codes = [rule.code for rule in MARTS_RULES]
    assert codes == [f"MART-{number:03d}" for number in range(1, len(codes) + 1)]
    assert {rule.severity for rule in MARTS_RULES} == {"error", "warning"}
    warnings = [rule.code for rule in MARTS_RULES if rule.severity == "warning"]
    assert warnings == ["MART-015", "MART-016"]
    gates = load_contract().formats.gates
    for rule in MARTS_RULES:
        assert rule.message and rule.fields and rule.check in ("suite", "sql")
        # Messages name the settings, never data.
        assert not re.search(r"S\d{8}|MDS\d\d", rule.message), rule.code
    assert f"{gates['volume_fall_ratio'] * 100:g}%" in MARTS_RULES[14].message
    assert f"at least {gates['volume_fall_min_previous']:g}" in MARTS_RULES[14].message


def test_the_committed_suite_is_the_generated_one_and_ties_each_expectation_to_a_rule() -> None:
    committed = json.loads(marts_suite_path().read_text(encoding="utf-8"))
    assert committed == build_marts_suite(), "run `cpmds suites`"
    assert build_marts_suite() == build_marts_suite()
    by_code = {rule.code: rule for rule in MARTS_RULES}
    ids = [committed["id"], *(e["id"] for e in committed["expectations"])]
    assert len(set(ids)) == len(ids) and all(uuid.UUID(i).version == 5 for i in ids)
    in_suite = set()
    for expectation in committed["expectations"]:
        rule = by_code[expectation["meta"]["rule"]]
        assert rule.check == "suite"
        assert expectation["meta"]["severity"] == rule.severity
        in_suite.add(rule.code)
    assert in_suite == {rule.code for rule in MARTS_RULES if rule.check == "suite"}


# --- a clean warehouse, and one fault at a time ----------------------------------------------


def test_a_clean_warehouse_passes_every_rule(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    result = check_marts(warehouse)
    assert result.passed
    assert [outcome.code for outcome in result.outcomes] == [rule.code for rule in MARTS_RULES]
    assert result.failures == ()
    assert not result.outcome("MART-016").checked
    assert all(outcome.checked for outcome in result.outcomes if outcome.code != "MART-016")

    against_itself = check_marts(warehouse, previous=_warehouse(tmp_path, name="p"))
    assert against_itself.passed and against_itself.failures == ()
    assert against_itself.outcome("MART-016").checked


def _negative_count(tables: Tables) -> None:
    _row(tables, "MDS04", "2024-01").update(numerator=-1, value=-1.0)


def _percentage_of_101(tables: Tables) -> None:
    _row(tables, "MDS03", "2024-01").update(numerator=101, denominator=100, value=101.0)
    _row(tables, "MDS03", "2024-01").update(ci_lower=95.0, ci_upper=101.5)


def _ci_lower_above_value(tables: Tables) -> None:
    _row(tables, "MDS01", "2024-03", "source").update(ci_lower=3.5)


def _percent_ci_upper_below_value(tables: Tables) -> None:
    _row(tables, "MDS03", "2024-02").update(ci_upper=49.0)


def _rate_above_1000(tables: Tables) -> None:
    _row(tables, "MDS01", "2024-01").update(numerator=1200, value=1200.0, ci_upper=1300.0)


def _duplicate_key(tables: Tables) -> None:
    tables["marts.indicator_values"].append(dict(_row(tables, "MDS03", "2024-03")))


def _missing_count_value(tables: Tables) -> None:
    _row(tables, "MDS04", "2024-01").update(value=None)


def _negative_denominator(tables: Tables) -> None:
    _row(tables, "MDS03", "2024-03").update(denominator=-10)


def _unknown_indicator(tables: Tables) -> None:
    tables["marts.indicator_values"].append(
        {**_row(tables, "MDS04", "2024-01"), "indicator_id": "MDS99"}
    )


def _unit_not_the_catalogues(tables: Tables) -> None:
    _row(tables, "MDS01", "2024-02").update(unit="median_days")


def _count_with_denominator(tables: Tables) -> None:
    _row(tables, "MDS04", "2024-03").update(denominator=100)


def _missing_covered_cell(tables: Tables) -> None:
    tables["marts.indicator_values"] = [
        row
        for row in tables["marts.indicator_values"]
        if not (row["indicator_id"] == "MDS01" and row["period_label"] == "2024-02")
    ]


def _missing_listed_row(tables: Tables) -> None:
    tables["marts.indicator_values"].remove(_row(tables, "MDS01", "2024-03", "source"))


def _deregistered_before_registered(tables: Tables) -> None:
    tables["marts.fct_registrations"].append(_registration("2024-02-10", "2024-01-05"))


@pytest.mark.parametrize(
    ("change", "code", "failing", "examples"),
    [
        (_negative_count, "MART-001", 1, [_key("MDS04", "2024-01")]),
        (_negative_denominator, "MART-002", 1, [_key("MDS03", "2024-03")]),
        (_percentage_of_101, "MART-003", 1, [_key("MDS03", "2024-01")]),
        (_rate_above_1000, "MART-004", 1, [_key("MDS01", "2024-01")]),
        (_ci_lower_above_value, "MART-005", 1, [_key("MDS01", "2024-03", "source", "POL")]),
        (_percent_ci_upper_below_value, "MART-005", 1, [_key("MDS03", "2024-02")]),
        (_duplicate_key, "MART-006", 2, [_key("MDS03", "2024-03")]),
        (_missing_count_value, "MART-007", 1, [_key("MDS04", "2024-01")]),
        (_unknown_indicator, "MART-009", 1, [_key("MDS99", "2024-01")]),
        (_unit_not_the_catalogues, "MART-010", 1, [_key("MDS01", "2024-02")]),
        (_count_with_denominator, "MART-011", 1, [_key("MDS04", "2024-03")]),
        (_missing_covered_cell, "MART-012", 1, [_key("MDS01", "2024-02", None)]),
        (_missing_listed_row, "MART-013", 1, [_key("MDS01", "2024-03", "source", "POL")]),
        (
            _deregistered_before_registered,
            "MART-014",
            2,
            [_key(None, "2024-01", None), _key(None, "2024-02", None)],
        ),
    ],
)
def test_each_fault_fails_its_rule_with_the_example_key(
    tmp_path: Path,
    change: Callable[[Tables], None],
    code: str,
    failing: int,
    examples: list[CellKey],
) -> None:
    result = check_marts(_warehouse(tmp_path, change))
    assert not result.passed
    failed = _failed(result)
    assert failed[code] == (failing, tuple(examples))
    assert set(failed) == {code}, "one fault, one rule"
    assert result.errors == (result.outcome(code),)


def test_a_missing_numerator_fails_and_examples_are_capped(tmp_path: Path) -> None:
    def no_numerators(tables: Tables) -> None:
        for row in tables["marts.indicator_values"]:
            if row["indicator_id"] == "MDS01":
                row["numerator"] = None

    outcome = check_marts(_warehouse(tmp_path, no_numerators)).outcome("MART-008")
    assert outcome.failing == 6
    assert len(outcome.examples) == MAX_EXAMPLES
    assert outcome.examples == tuple(sorted(outcome.examples))


def test_the_register_counts_records_opened_and_closed_inside_a_period(tmp_path: Path) -> None:
    def busy_month(tables: Tables) -> None:
        registrations = tables["marts.fct_registrations"]
        registrations += [_registration("2024-02-03", "2024-02-04")] * 3
        registrations += [_registration("2024-01-31", "2024-02-01")]

    assert check_marts(_warehouse(tmp_path, busy_month)).passed


def _counts(jan: int, feb: int, mar: int) -> Callable[[Tables], None]:
    def change(tables: Tables) -> None:
        for label, count in (("2024-01", jan), ("2024-02", feb), ("2024-03", mar)):
            _row(tables, "MDS04", label).update(numerator=count, value=float(count))

    return change


def test_a_60_percent_fall_from_30_is_a_warning_that_does_not_block(tmp_path: Path) -> None:
    result = check_marts(_warehouse(tmp_path, _counts(30, 12, 12)))
    assert result.passed
    assert result.errors == ()
    assert _failed(result) == {"MART-015": (1, (_key("MDS04", "2024-02"),))}
    assert result.warnings == (result.outcome("MART-015"),)


@pytest.mark.parametrize("counts", [(10, 4, 4), (30, 15, 15), (19, 2, 2)])
def test_a_fall_from_under_20_or_of_at_most_half_is_nothing(tmp_path: Path, counts) -> None:
    result = check_marts(_warehouse(tmp_path, _counts(*counts)))
    assert result.passed and result.failures == ()


def test_a_fall_against_the_last_published_warehouse_is_a_warning(tmp_path: Path) -> None:
    published = _warehouse(tmp_path, _counts(10, 40, 10), name="published")
    current = _warehouse(tmp_path, _counts(10, 12, 10))
    result = check_marts(current, previous=published)
    assert result.passed
    assert _failed(result) == {"MART-016": (1, (_key("MDS04", "2024-02"),))}
    assert check_marts(current).failures == ()
