"""Disclosure control (security.md, "Statistical disclosure control in published outputs").

Hand-made tables whose suppressed cells are worked out by hand (each test's docstring says why),
and seeded random tables checked by an independent solver: after suppression no group equation
(total = sum of parts) and no count published twice leaves exactly one unknown, so no suppressed
count can be worked out by subtraction or by reading another indicator.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from functools import cache

import numpy as np
import polars as pl
import pytest

from cpmds.catalogue import load_catalogue
from cpmds.contract import load_contract
from cpmds.publish.suppression import NUMBERS, base_links, same_count_links, suppress

CATALOGUE = load_catalogue()
CONTRACT = load_contract()
SCOTLAND = CONTRACT.reference.scotland.code
COUNCILS = sorted(council.code for council in CONTRACT.reference.councils)
CPCS = {cpc.code: cpc.councils for cpc in CONTRACT.reference.cpcs}
JOINT = {code: councils for code, councils in CPCS.items() if len(councils) > 1}
CPC_OF = {council: code for code, councils in CPCS.items() for council in councils}
# Councils that are a CPC on their own, in code order: SINGLE[0] < SINGLE[1] < ...
SINGLE = [council for council in COUNCILS if CPC_OF[council] == council]
CLACKS, STIRLING = "S12000005", "S12000030"  # the councils of CPC S12000005+S12000030
CLACKS_STIRLING = "S12000005+S12000030"

SCHEMA = {
    "indicator_id": pl.String,
    "area_code": pl.String,
    "area_type": pl.String,
    "period_type": pl.String,
    "period_label": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "breakdown": pl.String,
    "breakdown_value": pl.String,
    "numerator": pl.Int64,
    "denominator": pl.Int64,
    "value": pl.Float64,
    "ci_lower": pl.Float64,
    "ci_upper": pl.Float64,
    "unit": pl.String,
    "n_children": pl.Int64,
    "provisional": pl.Boolean,
    "flags": pl.List(pl.String),
    "run_id": pl.String,
}


# --- building tables ---------------------------------------------------------------------------


def period(label: str) -> tuple[str, dt.date, dt.date]:
    """``2024-06`` (month), ``2024-Q2`` (quarter), ``2023/24`` (statistical year, Aug-Jul)."""

    def end(year: int, month: int) -> dt.date:
        return dt.date(year, month, calendar.monthrange(year, month)[1])

    if "/" in label:
        year = int(label[:4])
        return "year", dt.date(year, 8, 1), dt.date(year + 1, 7, 31)
    if "-Q" in label:
        year, quarter = (int(part) for part in label.split("-Q"))
        first = 3 * quarter - 2
        return "quarter", dt.date(year, first, 1), end(year, first + 2)
    year, month = (int(part) for part in label.split("-"))
    return "month", dt.date(year, month, 1), end(year, month)


def area(name: str) -> tuple[str, str]:
    """A council code, ``cpc:<code>`` or Scotland's code, as (area_type, area_code)."""
    if name == SCOTLAND:
        return "scotland", name
    if name.startswith("cpc:"):
        return "cpc", name.removeprefix("cpc:")
    return "council", name


def cell(
    indicator: str,
    where: str,
    label: str,
    numerator: int,
    denominator: int | None = None,
    *,
    by: tuple[str, str] = ("total", "total"),
    n_children: int | None = None,
) -> dict:
    unit = CATALOGUE.indicator_by_id[indicator].unit
    value: float | None = float(numerator)
    if unit == "percent":
        value = 100 * numerator / denominator if denominator else None
    elif unit == "rate_per_1000":
        value = 1000 * numerator / denominator if denominator else None
    elif unit == "median_days":
        value = 40.0 if numerator else None
    area_type, area_code = area(where)
    period_type, start, end = period(label)
    return {
        "indicator_id": indicator,
        "area_code": area_code,
        "area_type": area_type,
        "period_type": period_type,
        "period_label": label,
        "period_start": start,
        "period_end": end,
        "breakdown": by[0],
        "breakdown_value": by[1],
        "numerator": numerator,
        "denominator": denominator,
        "value": value,
        "ci_lower": None if value is None else value / 2,
        "ci_upper": None if value is None else value * 2,
        "unit": unit,
        "n_children": n_children,
        "provisional": False,
        "flags": ["history_gap"],
        "run_id": "test",
    }


def table(rows: Iterable[dict]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=SCHEMA)


def name_of(row: dict) -> tuple[str, str, str, str]:
    where = {"council": "", "cpc": "cpc:", "scotland": ""}[row["area_type"]] + row["area_code"]
    return row["indicator_id"], where, row["period_label"], row["breakdown_value"]


def reasons(rows: Iterable[dict]) -> dict[tuple[str, str, str, str], str]:
    """What ``suppress`` hid, and why, once the solver has found nothing derivable."""
    original = table(rows)
    published = suppress(original)
    assert audit(original, published) == []
    return {
        name_of(row): row["suppression_reason"]
        for row in published.iter_rows(named=True)
        if row["suppressed"]
    }


def months(first: tuple[int, int], count: int) -> list[str]:
    year, month = first
    labels = []
    for _ in range(count):
        labels.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


# --- the solver: an independent check that nothing suppressed can be derived --------------------


def key(r: dict) -> tuple[str, ...]:
    columns = ("indicator_id", "area_type", "area_code", "period_label", "breakdown")
    return (*(r[c] for c in columns), r["breakdown_value"])


def audit(original: pl.DataFrame, published: pl.DataFrame) -> list[str]:
    """Every equation that gives away a suppressed count.

    Same-count links (a single-council CPC and its council; a stock indicator's quarter or year and
    its last month; a base indicator's count and its percentages' denominator; the catalogue's
    ``same_counts``, such as MDS22's numerator and MDS20's, MDS37's denominator and MDS36's
    ``n_children``) must not show a count hidden elsewhere. Group equations (a single-valued
    breakdown under its total, councils under a joint CPC, councils and CPCs under Scotland, months
    under a quarter or statistical year, a year as its quarters and the months outside them) must
    not have exactly one unknown, quantity by quantity: the tested count; for a percentage, or a
    rate not per population, also its denominator; for a percentage its complement. A quantity is
    known where its row or another row publishing it again (a base, a same count) shows it. A group
    whose known members are all 0 is let be: no non-zero cell is left to hide the unknown, which
    such an equation says is 0 (shown anyway) or, where the cells do not truly add up (stock
    months, distinct children), does not determine."""
    rows = original.to_dicts()
    hidden = published["suppressed"].to_list()
    at = {key(r): i for i, r in enumerate(rows)}
    problems: list[str] = []

    def find(r: dict, **changes: str) -> int | None:
        return at.get(key({**r, **changes}))

    def quantity(indicator_id: str, count: str) -> str:
        """Which of ``quantities`` a catalogue count name is."""
        if count == "numerator" and CATALOGUE.indicator_by_id[indicator_id].n_children:
            return "numerator"  # shown, not tested
        return {"numerator": "count", "n_children": "count", "denominator": "denominator"}[count]

    # (row, quantity) -> the other rows that publish the same number
    shown_as: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        indicator = CATALOGUE.indicator_by_id[r["indicator_id"]]
        same: list[tuple[int, bool]] = []  # (the other row showing the same count, both ways)
        if r["area_type"] == "council" and CPC_OF[r["area_code"]] == r["area_code"]:
            same.append((find(r, area_type="cpc"), True))
        if indicator.kind == "stock" and r["period_type"] != "month":
            last = r["period_end"]
            same.append((find(r, period_label=f"{last.year}-{last.month:02d}"), True))
        if indicator.denominator.kind == "indicator":
            base = CATALOGUE.indicator_by_id[indicator.denominator.base]
            whole = r["breakdown"] not in base.breakdown_names
            b = find(
                r,
                indicator_id=base.id,
                **({"breakdown": "total", "breakdown_value": "total"} if whole else {}),
            )
            if b is not None:
                shown_as[(i, "denominator")].append(b)
                same.append((b, False))
        for entry in indicator.same_counts:
            o = find(r, indicator_id=entry.indicator)
            if o is not None:
                shown_as[(i, quantity(indicator.id, entry.count))].append(o)
                shown_as[(o, quantity(entry.indicator, entry.their))].append(i)
                same.append((o, True))
        for other, both_ways in same:
            if other is None:
                continue
            if hidden[other] and not hidden[i]:
                problems.append(f"{name_of(rows[other])} hidden, shown again in {name_of(r)}")
            if both_ways and hidden[i] and not hidden[other]:
                problems.append(f"{name_of(r)} hidden, shown again in {name_of(rows[other])}")

    def quantities(i: int) -> dict[str, tuple[bool, int]]:
        """quantity -> (known, value)."""
        r = rows[i]
        indicator = CATALOGUE.indicator_by_id[r["indicator_id"]]

        def known(name: str) -> bool:
            return not hidden[i] or any(not hidden[o] for o in shown_as[(i, name)])

        count = r["n_children"] if r["n_children"] is not None else r["numerator"]
        found = {"count": (known("count"), count)}
        if r["n_children"] is None and (
            indicator.unit == "percent"
            or (indicator.unit == "rate_per_1000" and indicator.denominator.kind != "population")
        ):
            found["denominator"] = (known("denominator"), r["denominator"])
            if indicator.unit == "percent":
                found["complement"] = (not hidden[i], r["denominator"] - r["numerator"])
        return found

    for name, total, parts in groups(rows, find):
        members = [total, *parts]
        for quantity in quantities(total):
            states = [quantities(m)[quantity] for m in members]
            unknown = [m for m, (known, _) in zip(members, states, strict=True) if not known]
            if len(unknown) == 1 and any(value for known, value in states if known):
                problems.append(
                    f"{name} group of {name_of(rows[total])}: {quantity} of "
                    f"{name_of(rows[unknown[0]])} follows by subtraction"
                )
    return problems


def groups(rows: list[dict], find) -> Iterable[tuple[str, int, list[int]]]:
    """(kind, total row, part rows): the equations security.md names, plus the CPCs under
    Scotland and a year as its quarters and the months outside them, found afresh from the
    catalogue, the contract and the periods' dates."""
    months_in: dict[str, list[str]] = defaultdict(list)
    quarters_in: dict[str, list[str]] = defaultdict(list)
    periods = {
        (r["period_label"], r["period_type"], r["period_start"], r["period_end"]) for r in rows
    }
    for label, kind, start, end in periods:
        inside = [(p, k) for p, k, s, e in periods if start <= s and e <= end and p != label]
        months_in[label] = sorted(p for p, k in inside if k == "month")
        if kind == "year":
            quarters_in[label] = sorted(p for p, k in inside if k == "quarter")
    for i, r in enumerate(rows):
        indicator = CATALOGUE.indicator_by_id[r["indicator_id"]]
        if r["breakdown"] == "total":
            for name in indicator.breakdown_names:
                if CATALOGUE.breakdown_by_name[name].valued == "single":
                    parts = [
                        find(r, breakdown=name, breakdown_value=code)
                        for code in CATALOGUE.breakdown_codes(indicator.id, name)
                    ]
                    yield "breakdown", i, [p for p in parts if p is not None]
        if r["area_type"] == "scotland":
            councils = [find(r, area_type="council", area_code=c) for c in COUNCILS]
            yield "councils", i, [p for p in councils if p is not None]
            cpcs = [find(r, area_type="cpc", area_code=c) for c in CPCS]
            yield "cpcs", i, [p for p in cpcs if p is not None]
        if r["area_type"] == "cpc" and r["area_code"] in JOINT:
            councils = [find(r, area_type="council", area_code=c) for c in JOINT[r["area_code"]]]
            yield "joint cpc", i, [p for p in councils if p is not None]
        if r["period_type"] != "month":
            parts = [find(r, period_label=m) for m in months_in[r["period_label"]]]
            yield "months", i, [p for p in parts if p is not None]
        if r["period_type"] == "year" and quarters_in[r["period_label"]]:
            inside = quarters_in[r["period_label"]]
            covered = {m for q in inside for m in months_in[q]}
            labels = inside + [m for m in months_in[r["period_label"]] if m not in covered]
            parts = [find(r, period_label=label) for label in labels]
            yield "quarters and months", i, [p for p in parts if p is not None]


# --- primary -----------------------------------------------------------------------------------


def test_primary_tests_each_units_count():
    """Counts 1-4 are hidden, 0 and 5 shown; a rate by its numerator or its population; a
    percentage by numerator, denominator or complement (48 of 50 discloses the 2 who were not);
    a median by how many items it is over; MDS36 by its pupils (n_children), not its sessions,
    whatever the sessions. Every row is alone (no totals, no bases), so only primary applies."""
    m = "2024-04"
    a, b, c, d, e, f, g = SINGLE[:7]
    rows = [
        cell("MDS04", a, m, 0),
        cell("MDS04", b, m, 1),
        cell("MDS04", c, m, 4),
        cell("MDS04", d, m, 5),
        cell("MDS06", a, m, 3),
        cell("MDS06", b, m, 12),
        cell("MDS01", a, m, 2, 20_000),
        cell("MDS01", b, m, 30, 3),
        cell("MDS01", c, m, 30, 20_000),
        cell("MDS11", a, m, 2, 50),
        cell("MDS11", b, m, 48, 50),
        cell("MDS11", c, m, 0, 50),
        cell("MDS11", d, m, 50, 50),
        cell("MDS11", e, m, 0, 0),
        cell("MDS11", f, m, 3, 3),
        cell("MDS11", g, m, 5, 10),
        cell("MDS22", a, m, 3),
        cell("MDS22", b, m, 7),
        cell("MDS22", c, m, 0),
        cell("MDS36", a, "2023/24", 100, 150, n_children=3),
        cell("MDS36", b, "2023/24", 2_000, 2_003, n_children=20),
        cell("MDS36", c, "2023/24", 3, 4, n_children=12),
    ]
    assert reasons(rows) == {
        ("MDS04", b, m, "total"): "primary",
        ("MDS04", c, m, "total"): "primary",
        ("MDS06", a, m, "total"): "primary",
        ("MDS01", a, m, "total"): "primary",
        ("MDS01", b, m, "total"): "primary",
        ("MDS11", a, m, "total"): "primary",
        ("MDS11", b, m, "total"): "primary",
        ("MDS11", f, m, "total"): "primary",
        ("MDS22", a, m, "total"): "primary",
        ("MDS36", a, "2023/24", "total"): "primary",
    }


def test_zeros_are_shown_and_never_chosen_as_secondary():
    """A table of zeros hides nothing. Of MDS12's exam types under a total of 8 (JPF 3, CMP 0,
    OTH 5), JPF is primary and the other cell hidden with it is OTH (5), not the zero."""
    m = "2024-04"
    b = SINGLE[1]
    rows = [cell("MDS04", c, m, 0) for c in COUNCILS] + [cell("MDS04", SCOTLAND, m, 0)]
    rows += [
        cell("MDS12", b, m, 8),
        cell("MDS12", b, m, 3, by=("exam_type", "JPF")),
        cell("MDS12", b, m, 0, by=("exam_type", "CMP")),
        cell("MDS12", b, m, 5, by=("exam_type", "OTH")),
    ]
    assert reasons(rows) == {
        ("MDS12", b, m, "JPF"): "primary",
        ("MDS12", b, m, "OTH"): "secondary",
    }


# --- secondary ---------------------------------------------------------------------------------


def test_a_breakdown_value_could_be_recovered_from_its_total():
    """MDS01's sources add up to its total (20 = POL 3 + EDU 10 + HEA 7 + zeros): with only POL
    hidden, 20 - 10 - 7 gives it back, so the smallest other non-zero source (HEA, 7) is hidden
    too; the zeros and the total stay shown. MDS02's concern types are multi-valued (a report
    counts once in each of its types) and form no group: DA 3 alone is hidden."""
    m = "2024-04"
    a = SINGLE[0]
    counts = {"POL": 3, "EDU": 10, "HEA": 7}
    rows = [cell("MDS01", a, m, 20, 20_000)] + [
        cell("MDS01", a, m, counts.get(code, 0), 20_000, by=("source", code))
        for code in CATALOGUE.breakdown_codes("MDS01", "source")
    ]
    rows += [
        cell("MDS02", a, m, 20, 20_000),
        cell("MDS02", a, m, 3, None, by=("concern_type", "DA")),
        cell("MDS02", a, m, 15, None, by=("concern_type", "NEG")),
        cell("MDS02", a, m, 9, None, by=("concern_type", "MIS")),
    ]
    assert reasons(rows) == {
        ("MDS01", a, m, "POL"): "primary",
        ("MDS01", a, m, "HEA"): "secondary",
        ("MDS02", a, m, "DA"): "primary",
    }


def test_a_suppressed_total_is_a_member_of_its_group():
    """MDS12 in one council, the quarter from its months: April 10, May 3 (primary), June 20,
    Q2 33. Q2 - 10 - 20 would give May back, so April (10, the smallest other) is hidden. April's
    total is then the one unknown among its exam types (JPF 5 + CMP 5 + OTH 0 = 10): adding them
    up would give it back, so the smallest non-zero type is hidden too, CMP before JPF in code
    order (a tie). May's JPF 3 is primary itself, so May's types already hide two cells."""
    a = SINGLE[0]
    rows = [
        cell("MDS12", a, "2024-04", 10),
        cell("MDS12", a, "2024-04", 5, by=("exam_type", "JPF")),
        cell("MDS12", a, "2024-04", 5, by=("exam_type", "CMP")),
        cell("MDS12", a, "2024-04", 0, by=("exam_type", "OTH")),
        cell("MDS12", a, "2024-05", 3),
        cell("MDS12", a, "2024-05", 3, by=("exam_type", "JPF")),
        cell("MDS12", a, "2024-05", 0, by=("exam_type", "CMP")),
        cell("MDS12", a, "2024-05", 0, by=("exam_type", "OTH")),
        cell("MDS12", a, "2024-06", 20),
        cell("MDS12", a, "2024-06", 20, by=("exam_type", "JPF")),
        cell("MDS12", a, "2024-06", 0, by=("exam_type", "CMP")),
        cell("MDS12", a, "2024-06", 0, by=("exam_type", "OTH")),
        cell("MDS12", a, "2024-Q2", 33),
    ]
    assert reasons(rows) == {
        ("MDS12", a, "2024-05", "total"): "primary",
        ("MDS12", a, "2024-05", "JPF"): "primary",
        ("MDS12", a, "2024-04", "total"): "secondary",
        ("MDS12", a, "2024-04", "CMP"): "secondary",
    }


def test_councils_of_a_joint_cpc():
    """Clackmannanshire (3) and Stirling (9) make up their joint CPC (12): with Clackmannanshire
    hidden, 12 - 9 gives it back, so Stirling is hidden too. The other joint CPC (6 + 8 = 14) has
    nothing to hide."""
    m = "2024-04"
    lothian = "S12000010+S12000019"
    rows = [
        cell("MDS04", CLACKS, m, 3),
        cell("MDS04", STIRLING, m, 9),
        cell("MDS04", f"cpc:{CLACKS_STIRLING}", m, 12),
        cell("MDS04", "S12000010", m, 6),
        cell("MDS04", "S12000019", m, 8),
        cell("MDS04", f"cpc:{lothian}", m, 14),
    ]
    assert reasons(rows) == {
        ("MDS04", CLACKS, m, "total"): "primary",
        ("MDS04", STIRLING, m, "total"): "secondary",
    }


def test_the_32_councils_under_scotland():
    """Four councils with counts (2, 6, 6, 15), 28 zeros, Scotland 29: the 2 is primary and would
    follow from Scotland minus the rest, so the smallest other non-zero council is hidden: of the
    two 6s, the first in code order. Zeros are never chosen."""
    m = "2024-04"
    a, b, c, d = SINGLE[3], SINGLE[1], SINGLE[2], SINGLE[0]  # b < c in code order
    counts = {a: 2, b: 6, c: 6, d: 15}
    rows = [cell("MDS04", council, m, counts.get(council, 0)) for council in COUNCILS]
    rows.append(cell("MDS04", SCOTLAND, m, 29))
    assert reasons(rows) == {
        ("MDS04", a, m, "total"): "primary",
        ("MDS04", b, m, "total"): "secondary",
    }


def test_single_council_cpcs_and_cpcs_under_scotland():
    """With every council, CPC and Scotland: council a (2) is primary and so is its CPC (the
    same cells). Among the councils under Scotland the smallest other non-zero, c (6), is hidden;
    its CPC shows the same count, so it is hidden for consistency, which also leaves the CPCs
    under Scotland with two unknowns."""
    m = "2024-04"
    a, c, d = SINGLE[:3]
    counts = {a: 2, c: 6, d: 15}
    rows = [cell("MDS04", council, m, counts.get(council, 0)) for council in COUNCILS]
    rows += [
        cell("MDS04", f"cpc:{code}", m, sum(counts.get(c, 0) for c in councils))
        for code, councils in CPCS.items()
    ]
    rows.append(cell("MDS04", SCOTLAND, m, 23))
    assert reasons(rows) == {
        ("MDS04", a, m, "total"): "primary",
        ("MDS04", f"cpc:{a}", m, "total"): "primary",
        ("MDS04", c, m, "total"): "secondary",
        ("MDS04", f"cpc:{c}", m, "total"): "consistency",
    }


def test_months_of_a_quarter():
    """April 2, May 0, June 9 make Q2 11: April is primary and Q2 - 0 - 9 would give it back, so
    June is hidden (May, a zero, is never chosen)."""
    a = SINGLE[0]
    rows = [
        cell("MDS04", a, "2024-04", 2),
        cell("MDS04", a, "2024-05", 0),
        cell("MDS04", a, "2024-06", 9),
        cell("MDS04", a, "2024-Q2", 11),
    ]
    assert reasons(rows) == {
        ("MDS04", a, "2024-04", "total"): "primary",
        ("MDS04", a, "2024-06", "total"): "secondary",
    }


def test_months_of_a_statistical_year():
    """2023/24 runs from August 2023 to July 2024: August's 3 is primary, and the smallest other
    month of that year (September, 6) is hidden, not July 2023 or August 2024 (5 each, smaller,
    but outside the year; their own years have no published total)."""
    a = SINGLE[0]
    inside = dict(
        zip(months((2023, 8), 12), [3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], strict=True)
    )
    rows = [cell("MDS04", a, label, count) for label, count in inside.items()]
    rows += [
        cell("MDS04", a, "2023-07", 5),
        cell("MDS04", a, "2024-08", 5),
        cell("MDS04", a, "2023/24", sum(inside.values())),
    ]
    assert reasons(rows) == {
        ("MDS04", a, "2023-08", "total"): "primary",
        ("MDS04", a, "2023-09", "total"): "secondary",
    }


def test_a_year_is_also_its_quarters_and_the_months_outside_them():
    """2023/24 (105) = Q4 (21) + Q1 (30) + Q2 (30) + Aug (3) + Sep (9) + Jul (12). August's 3 is
    primary. Among the year's months the smallest other is October (5). That leaves August the one
    unknown of the year minus its quarters, September and July, so September (9, the smallest
    part there) is hidden too. October is then the one unknown of Q4, so November (8, before
    December's 8 in period order) is hidden with it."""
    a = SINGLE[0]
    counts = [3, 9, 5, 8, 8, 10, 10, 10, 10, 10, 10, 12]
    rows = [cell("MDS04", a, m, n) for m, n in zip(months((2023, 8), 12), counts, strict=True)]
    rows += [
        cell("MDS04", a, "2023-Q4", 21),
        cell("MDS04", a, "2024-Q1", 30),
        cell("MDS04", a, "2024-Q2", 30),
        cell("MDS04", a, "2023/24", 105),
    ]
    assert reasons(rows) == {
        ("MDS04", a, "2023-08", "total"): "primary",
        ("MDS04", a, "2023-10", "total"): "secondary",
        ("MDS04", a, "2023-09", "total"): "secondary",
        ("MDS04", a, "2023-11", "total"): "secondary",
    }


# --- consistency -------------------------------------------------------------------------------


def test_the_percentage_pairs_come_from_the_catalogue():
    """Every "of MDSxx" percentage, as indicators.md lists them."""
    assert base_links(CATALOGUE) == {
        "MDS03": "MDS02",
        "MDS07": "MDS05",
        "MDS08": "MDS05",
        "MDS09": "MDS06",
        "MDS11": "MDS10",
        "MDS15": "MDS13",
        "MDS21": "MDS18",
        "MDS23": "MDS20",
        "MDS24": "MDS18",
        "MDS25": "MDS19",
        "MDS29": "MDS28",
        "MDS35": "MDS34",
        "MDS39": "MDS18",
        "MDS40": "MDS05",
    }


def test_a_count_hidden_in_its_indicator_is_hidden_as_a_percentages_denominator():
    """MDS10 councils 2, 7, 9, 30 under Scotland 48: the 2 is primary, 7 (b) secondary. MDS11 is
    "of MDS10": b's row (7 of 7, nothing small in it) would show the hidden 7 as its denominator,
    so it is hidden for consistency; a's (1 of 2) is primary. e's MDS11 (28 of 30) is primary for
    its complement, but its base's 30 stays shown: with 30 known and 28 hidden the 2 stays hidden.
    """
    m = "2024-04"
    a, b, c, e = SINGLE[:4]
    rows = [
        cell("MDS10", a, m, 2),
        cell("MDS10", b, m, 7),
        cell("MDS10", c, m, 9),
        cell("MDS10", e, m, 30),
        cell("MDS10", SCOTLAND, m, 48),
        cell("MDS11", a, m, 1, 2),
        cell("MDS11", b, m, 7, 7),
        cell("MDS11", c, m, 0, 9),
        cell("MDS11", e, m, 28, 30),
        cell("MDS11", SCOTLAND, m, 36, 48),
    ]
    assert reasons(rows) == {
        ("MDS10", a, m, "total"): "primary",
        ("MDS10", b, m, "total"): "secondary",
        ("MDS11", a, m, "total"): "primary",
        ("MDS11", b, m, "total"): "consistency",
        ("MDS11", e, m, "total"): "primary",
    }


def test_a_breakdown_the_base_lacks_is_of_the_bases_total():
    """MDS24's concern rows are percentages of MDS18's total registrations: b's total (7) is hidden
    as the secondary of a's 2 under Scotland, so b's concern rows (0 of 7, 7 of 7) are hidden for
    consistency; a's (of 2) are primary."""
    m = "2024-04"
    a, b, c = SINGLE[:3]
    rows = [
        cell("MDS18", a, m, 2, 20_000),
        cell("MDS18", b, m, 7, 20_000),
        cell("MDS18", c, m, 9, 20_000),
        cell("MDS18", SCOTLAND, m, 18, 60_000),
        cell("MDS24", a, m, 1, 2, by=("concern", "DA")),
        cell("MDS24", a, m, 2, 2, by=("concern", "NEG")),
        cell("MDS24", b, m, 0, 7, by=("concern", "DA")),
        cell("MDS24", b, m, 7, 7, by=("concern", "NEG")),
    ]
    assert reasons(rows) == {
        ("MDS18", a, m, "total"): "primary",
        ("MDS18", b, m, "total"): "secondary",
        ("MDS24", a, m, "DA"): "primary",
        ("MDS24", a, m, "NEG"): "primary",
        ("MDS24", b, m, "DA"): "consistency",
        ("MDS24", b, m, "NEG"): "consistency",
    }


def test_a_stock_quarter_is_its_last_month():
    """MDS19 counts children on the register at the period's last day, so Q2 is June's count.
    Under Scotland in June, a's 2 is primary (and so a's Q2, the same 2) and b's 7 secondary;
    b's Q2 shows that same 7, so it is hidden for consistency."""
    a, b = SINGLE[:2]
    rows = [
        cell("MDS19", a, "2024-04", 0, 20_000),
        cell("MDS19", a, "2024-05", 0, 20_000),
        cell("MDS19", a, "2024-06", 2, 20_000),
        cell("MDS19", a, "2024-Q2", 2, 20_000),
        cell("MDS19", b, "2024-04", 5, 20_000),
        cell("MDS19", b, "2024-05", 6, 20_000),
        cell("MDS19", b, "2024-06", 7, 20_000),
        cell("MDS19", b, "2024-Q2", 7, 20_000),
        cell("MDS19", SCOTLAND, "2024-06", 9, 40_000),
    ]
    assert reasons(rows) == {
        ("MDS19", a, "2024-06", "total"): "primary",
        ("MDS19", a, "2024-Q2", "total"): "primary",
        ("MDS19", b, "2024-06", "total"): "secondary",
        ("MDS19", b, "2024-Q2", "total"): "consistency",
    }


def test_the_same_count_pairs_come_from_the_catalogue():
    """MDS22's median is over MDS20's deregistrations; MDS37's pupils are MDS36's n_children."""
    assert same_count_links(CATALOGUE) == [("MDS22", "MDS20"), ("MDS37", "MDS36")]


def test_deregistrations_and_their_median_are_suppressed_together():
    """April: MDS20 councils 2, 7, 9 under Scotland 18, and MDS22's medians over the same counts.
    The 2 is primary in both; MDS20 (settled first) hides b's 7 as its secondary, so MDS22's b,
    the same 7, is hidden for consistency. b's reasons (RR 7, the rest 0) then have their total
    as the one unknown, so RR is hidden too; MDS22 has no reason rows to link. May the other way
    round: only MDS22 has a Scotland row here, so only MDS22 needs b's 8 hidden (secondary), and
    MDS20's b, the same 8, is hidden for consistency."""
    april, may = "2024-04", "2024-05"
    a, b, c = SINGLE[:3]
    rows = []
    for indicator in ("MDS20", "MDS22"):
        rows += [
            cell(indicator, a, april, 2),
            cell(indicator, b, april, 7),
            cell(indicator, c, april, 9),
            cell(indicator, SCOTLAND, april, 18),
            cell(indicator, a, may, 3),
            cell(indicator, b, may, 8),
            cell(indicator, c, may, 9),
        ]
    rows.append(cell("MDS22", SCOTLAND, may, 20))
    rows += [
        cell("MDS20", b, april, 7 if code == "RR" else 0, by=("reason", code))
        for code in CATALOGUE.breakdown_codes("MDS20", "reason")
    ]
    assert reasons(rows) == {
        ("MDS20", a, april, "total"): "primary",
        ("MDS22", a, april, "total"): "primary",
        ("MDS20", b, april, "total"): "secondary",
        ("MDS22", b, april, "total"): "consistency",
        ("MDS20", b, april, "RR"): "secondary",
        ("MDS20", a, may, "total"): "primary",
        ("MDS22", a, may, "total"): "primary",
        ("MDS22", b, may, "total"): "secondary",
        ("MDS20", b, may, "total"): "consistency",
    }


def test_pupils_are_suppressed_in_attendance_and_exclusions_together():
    """Looked-after pupils (MDS36 n_children, MDS37's denominator) 3, 6, 10 under Scotland 19: a's
    3 is primary in both, MDS36 (settled first) hides b's 6 as its secondary, and MDS37's
    looked-after row for b, over the same 6 pupils, is hidden for consistency; the registered rows
    of b stay as they are. Registered pupils 20, 25, 30 (75): MDS37's a has 2 exclusions
    (primary), so MDS36's registered a, over the same 20 pupils, is hidden for consistency; that
    leaves it the one unknown under Scotland, so MDS36 hides b's 25 as well, and MDS37 follows."""
    year = "2023/24"
    a, b, c = SINGLE[:3]
    looked_after, registered = ("group", "looked_after"), ("group", "registered")
    rows = []
    for where, pupils, excluded in ((a, 3, 0), (b, 6, 5), (c, 10, 7), (SCOTLAND, 19, 12)):
        rows += [
            cell(
                "MDS36", where, year, 250 * pupils, 300 * pupils, by=looked_after, n_children=pupils
            ),
            cell("MDS37", where, year, excluded, pupils, by=looked_after),
        ]
    for where, pupils, excluded in ((a, 20, 2), (b, 25, 9), (c, 30, 11), (SCOTLAND, 75, 22)):
        rows += [
            cell(
                "MDS36", where, year, 280 * pupils, 300 * pupils, by=registered, n_children=pupils
            ),
            cell("MDS37", where, year, excluded, pupils, by=registered),
        ]
    assert reasons(rows) == {
        ("MDS36", a, year, "looked_after"): "primary",
        ("MDS37", a, year, "looked_after"): "primary",
        ("MDS36", b, year, "looked_after"): "secondary",
        ("MDS37", b, year, "looked_after"): "consistency",
        ("MDS37", a, year, "registered"): "primary",
        ("MDS36", a, year, "registered"): "consistency",
        ("MDS36", b, year, "registered"): "secondary",
        ("MDS37", b, year, "registered"): "consistency",
    }


def test_secondary_and_consistency_repeat_until_nothing_changes():
    """April: a (2) is primary under Scotland, c (5), the smallest other, secondary. c's CPC shows
    the same count, so it is hidden for consistency; in its quarter (April 5, May 6, June 8, Q2 19)
    the CPC's April is then the one unknown, so its May (the smallest other) is hidden as a
    secondary, and likewise in council c's own quarter."""
    a, c = SINGLE[:2]
    quarter = {"2024-04": 5, "2024-05": 6, "2024-06": 8, "2024-Q2": 19}
    rows = [
        cell("MDS04", a, "2024-04", 2),
        cell("MDS04", f"cpc:{a}", "2024-04", 2),
        cell("MDS04", SCOTLAND, "2024-04", 7),
    ]
    for label, count in quarter.items():
        rows += [cell("MDS04", c, label, count), cell("MDS04", f"cpc:{c}", label, count)]
    assert reasons(rows) == {
        ("MDS04", a, "2024-04", "total"): "primary",
        ("MDS04", f"cpc:{a}", "2024-04", "total"): "primary",
        ("MDS04", c, "2024-04", "total"): "secondary",
        ("MDS04", f"cpc:{c}", "2024-04", "total"): "consistency",
        ("MDS04", c, "2024-05", "total"): "secondary",
        ("MDS04", f"cpc:{c}", "2024-05", "total"): "secondary",
    }


# --- the published rows ------------------------------------------------------------------------


def test_suppressed_rows_lose_every_number_and_keep_everything_else():
    """Same rows, same order, same columns plus the two new ones; a suppressed row's numbers are
    all null (its flags, dates and run stay), a shown row is untouched."""
    m = "2024-04"
    a, b = SINGLE[:2]
    original = table(
        [
            cell("MDS36", a, "2023/24", 100, 150, n_children=3),
            cell("MDS11", a, m, 2, 50),
            cell("MDS04", b, m, 5),
            cell("MDS01", b, m, 30, 20_000),
        ]
    )
    published = suppress(original)
    assert published.columns == [*original.columns, "suppressed", "suppression_reason"]
    assert published.schema["suppressed"] == pl.Boolean
    assert published.schema["suppression_reason"] == pl.String
    assert published["suppressed"].to_list() == [True, True, False, False]
    assert published["suppression_reason"].to_list() == ["primary", "primary", None, None]
    hidden, shown = published.head(2), published.tail(2)
    for column in NUMBERS:
        assert hidden[column].null_count() == 2, column
    assert shown.drop("suppressed", "suppression_reason").equals(original.tail(2))
    kept = [c for c in original.columns if c not in NUMBERS]
    assert published.select(kept).equals(original.select(kept))


def test_deterministic_whatever_the_row_order():
    """The same input gives the same output; shuffled, each row still gets the same verdict."""
    rows = random_table(seed=1)
    first, again = suppress(rows), suppress(rows)
    assert first.equals(again)
    shuffled = rows.sample(fraction=1.0, shuffle=True, seed=3)
    key = ["indicator_id", "area_type", "area_code", "period_label", "breakdown", "breakdown_value"]
    assert suppress(shuffled).sort(key).equals(first.sort(key))


def test_no_rows_in_no_rows_out():
    published = suppress(table([]))
    assert published.height == 0
    assert published.columns[-2:] == ["suppressed", "suppression_reason"]


def test_rows_it_cannot_protect_are_refused():
    row = cell("MDS04", SINGLE[0], "2024-04", 3)
    with pytest.raises(ValueError, match="repeat a key"):
        suppress(table([row, row]))
    with pytest.raises(ValueError, match="unknown breakdown"):
        suppress(table([{**row, "breakdown": "colour", "breakdown_value": "red"}]))
    with pytest.raises(ValueError, match="unknown unit"):
        suppress(table([{**row, "unit": "furlongs"}]))


# --- the solver on random tables ---------------------------------------------------------------

MONTHS = months((2023, 8), 12)
QUARTERS = ["2023-Q4", "2024-Q1", "2024-Q2"]  # those wholly inside 2023/24
YEAR = "2023/24"


@cache
def random_table(seed: int) -> pl.DataFrame:
    """Every council, CPC and Scotland over a statistical year's months, quarters and year:
    MDS18 (flow rate, age band and sex breakdowns) with MDS21 (% of MDS18); MDS19 (stock) with
    MDS25 (% of MDS19); MDS12 (count, exam types); MDS20 (count, reasons) with MDS22 (median over
    the same count); and, for the year only, MDS36 (pupils as ``n_children``, groups) with MDS37
    (rate per pupil). Small counts drawn at the finest level (council, month, breakdown cell),
    everything else added up from them (a stock period is its last month)."""
    rng = np.random.default_rng(seed)
    scale = rng.gamma(1.0, 1.2, size=len(COUNCILS))
    areas = [(c, [i]) for i, c in enumerate(COUNCILS)]
    areas += [(f"cpc:{code}", [COUNCILS.index(c) for c in cs]) for code, cs in CPCS.items()]
    areas.append((SCOTLAND, list(range(len(COUNCILS)))))
    periods = [(m, [i]) for i, m in enumerate(MONTHS)]
    periods += [
        (q, [i for i, m in enumerate(MONTHS) if period(q)[1] <= period(m)[1] <= period(q)[2]])
        for q in QUARTERS
    ]
    periods.append((YEAR, list(range(12))))

    def draw(*shape: int) -> np.ndarray:
        means = scale.reshape(-1, *([1] * len(shape))) * rng.uniform(0.2, 1.5, size=(1, *shape))
        return rng.poisson(means)

    ages = CATALOGUE.breakdown_by_name["age_band"].codes
    sexes = CATALOGUE.breakdown_by_name["sex"].codes
    exams = CATALOGUE.breakdown_by_name["exam_type"].codes
    registrations = draw(12, len(ages), len(sexes))
    re_registrations = rng.binomial(registrations, 0.3)
    register = draw(12, len(ages), len(sexes)) * 2
    looked_after = rng.binomial(register, 0.5)
    medicals = draw(12, len(exams))
    reasons = CATALOGUE.breakdown_by_name["reason"].codes
    deregistrations = draw(12, len(reasons))
    groups = CATALOGUE.breakdown_by_name["group"].codes
    pupils = rng.poisson(scale * 400)
    in_group = rng.binomial(pupils[:, None], rng.uniform(0.002, 0.03, size=(1, len(groups))))
    exclusions = rng.binomial(pupils, 0.02)
    group_exclusions = rng.binomial(in_group, 0.1)

    def by(indicator: str, where: str, label: str, name: str, codes, counts, population=None):
        return [
            cell(indicator, where, label, int(n), population, by=(name, code))
            for code, n in zip(codes, counts, strict=True)
        ]

    rows = []
    for where, councils in areas:
        for label, within in periods:
            stock = within[-1:]
            reg = registrations[councils][:, within].sum(axis=(0, 1))
            re_reg = re_registrations[councils][:, within].sum()
            on = register[councils][:, stock].sum(axis=(0, 1))
            la = looked_after[councils][:, stock].sum()
            med = medicals[councils][:, within].sum(axis=(0, 1))
            rows.append(cell("MDS18", where, label, int(reg.sum()), 50_000))
            rows += by("MDS18", where, label, "age_band", ages, reg.sum(axis=1), 50_000)
            rows += by("MDS18", where, label, "sex", sexes, reg.sum(axis=0), 50_000)
            rows.append(cell("MDS21", where, label, int(re_reg), int(reg.sum())))
            rows.append(cell("MDS19", where, label, int(on.sum()), 50_000))
            rows += by("MDS19", where, label, "age_band", ages, on.sum(axis=1), 50_000)
            rows += by("MDS19", where, label, "sex", sexes, on.sum(axis=0), 50_000)
            rows.append(cell("MDS25", where, label, int(la), int(on.sum())))
            rows.append(cell("MDS12", where, label, int(med.sum())))
            rows += by("MDS12", where, label, "exam_type", exams, med)
            dereg = deregistrations[councils][:, within].sum(axis=(0, 1))
            rows.append(cell("MDS20", where, label, int(dereg.sum())))
            rows += by("MDS20", where, label, "reason", reasons, dereg)
            rows.append(cell("MDS22", where, label, int(dereg.sum())))
        school = [("total", "total", pupils[councils].sum(), exclusions[councils].sum())]
        school += [
            ("group", code, in_group[councils, g].sum(), group_exclusions[councils, g].sum())
            for g, code in enumerate(groups)
        ]
        for name, code, n, excluded in school:
            possible = int(n) * 300
            rows += [
                cell(
                    "MDS36",
                    where,
                    YEAR,
                    possible * 9 // 10,
                    possible,
                    by=(name, code),
                    n_children=int(n),
                ),
                cell("MDS37", where, YEAR, int(excluded), int(n), by=(name, code)),
            ]
    return table(rows)


@pytest.mark.parametrize("seed", [1, 2])
def test_no_suppressed_count_can_be_derived(seed):
    """On random tables (seeded) with many small counts: after suppression, no group equation of
    any kind (breakdown, joint CPC, councils and CPCs under Scotland, months under a quarter or
    the year, a year as quarters and months; count, denominator and complement alike) has exactly
    one unknown, and no count hidden in one row is shown in another (a CPC and its council, a
    stock quarter and its last month, a base and its percentage, MDS20 and MDS22, MDS36 and
    MDS37)."""
    original = random_table(seed)
    published = suppress(original)
    counts = published["suppression_reason"].value_counts()
    assert set(counts["suppression_reason"].drop_nulls()) == {"primary", "secondary", "consistency"}
    assert audit(original, published) == []
    # And the check bites: primary suppression alone gives cells away.
    primary_only = published.with_columns(
        pl.col("suppression_reason").eq("primary").fill_null(False).alias("suppressed")
    )
    assert audit(original, primary_only) != []
