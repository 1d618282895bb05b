"""Statistical disclosure control of ``indicator_values`` (security.md, "Statistical disclosure
control in published outputs"): :func:`suppress` is a pure function from the restricted rows to the
rows that may be published.

**Cells.** Every row is a cell, suppressed or shown as a whole: a suppressed row has its numerator,
denominator, value, interval and ``n_children`` all null.

**Primary** (reason ``primary``): a tested count from 1 to 4; zero is shown. Tested, by ``unit``:
``count`` and ``distinct_children`` the numerator; ``rate_per_1000`` and ``median_days`` the
numerator (events, children, the items a median is over) and the denominator; ``percent`` the
numerator, the denominator and the complement (denominator - numerator). A row with ``n_children``
set (MDS36, whose numbers are sessions) tests ``n_children`` alone.

**Secondary** (reason ``secondary``). A group is an equation ``total = sum(parts)`` between
published cells of one indicator, all other keys fixed. Its members are the parts *and* the total,
and a suppressed member is an unknown. No group may have exactly one unknown, since that unknown
would follow by subtraction: a suppressed part from the total, or a suppressed total from its
parts. When a group has exactly one, its smallest other non-zero part is suppressed too, or the
total if no part is left to choose. Ties go in key order (area, period, breakdown). A cell's size
("smallest", "non-zero") is ``n_children`` where set. Where the denominator counts what the cell
is about (a percentage's base; a rate not per population, such as MDS37's pupils), it is the
denominator: a cell with numerator 0 and denominator 7 still hides a denominator. Otherwise it is
the numerator (a population is public). The groups, settled in the order of ``GROUP_KINDS``:

- ``breakdown``: the values of a single-valued breakdown (catalogue ``valued: single``) under the
  total row of the same indicator, area and period. Multi-valued breakdowns form no group.
- ``council_cpc``: the councils of a joint CPC under the CPC (period and breakdown row fixed).
- ``council_scotland``: the councils under Scotland.
- ``cpc_scotland``: the CPCs under Scotland. They add up to it too, and without this group a
  council could be recovered as Scotland minus the CPCs around it.
- ``month_quarter`` and ``month_year``: the months inside a quarter, or inside a statistical year,
  under it (area and breakdown row fixed; containment comes from the periods' dates).
- ``quarter_year``: a year's quarters wholly inside it, together with its months outside them
  (2023/24 = 2023-Q4 + 2024-Q1 + 2024-Q2 + Aug + Sep + Jul). These cells add up to a published cell
  as well. Without this group, August, September and July of a year could be worked out from the
  year minus its quarters.

Distinct-children counts, and stock indicators' months, are treated as adding up (conservative).
A percentage's numerator and denominator both add up and share the row's fate. When the
denominator is another indicator's count, that indicator's own groups protect it through the
links below.

**Consistency** (reason ``consistency``). A count suppressed in one row is suppressed wherever the
same count is published again. Each link runs ``source -> target``: the target is suppressed when
the source is.

- Base -> percentage: an indicator's count is the denominator of every percentage whose catalogue
  ``denominator`` has ``kind: indicator`` and that ``base`` (MDS18 -> MDS21, MDS24, MDS39; MDS02
  -> MDS03; ...), for the same area and period. The percentage's breakdown row links to the same
  row of the base if the base has that breakdown, and to the base's total row otherwise (MDS24's
  concern rows are of MDS18's total). The link runs one way only. A percentage hidden for its
  numerator or its complement leaves its base's count shown: with the denominator known and the
  numerator hidden, the complement stays hidden, and the percentage's own groups protect both. A
  denominator from 1 to 4 is primary in both rows anyway.
- Same counts, both ways: an indicator's count that another publishes again (catalogue
  ``same_counts``: MDS22's numerator is MDS20's count, MDS37's denominator is MDS36's
  ``n_children``), for the same area, period and breakdown row (total with total). Only rows that
  both indicators have are linked: MDS20's reason rows have no MDS22 row. Both ways, since either
  row may hide the count for its own reasons; a row hidden for its other numbers (MDS37's
  exclusions) hides its partner too, which costs some cells and protects the count whichever
  indicator's groups chose it.
- A single-council CPC and its council, both ways: they are the same cells.
- A stock indicator's quarter or year and the month it ends with, both ways: the same count.

**Order.** Primary first. Then repeat until nothing changes: take each group kind in turn; within
a kind, settle all groups at once, first for the indicators that are some percentage's base or
whose count another publishes again (MDS20, MDS36) and then for the rest; after each step,
follow the consistency links to a fixed point. ``suppression_reason`` is the first reason that
applied. The result is deterministic and does not depend on the order of the rows.

**Limits.** This is security.md's rule: no single equation has exactly one unknown. It does not
solve all the equations together. A suppressed cell that only a combination of equations
determines (a rank check on test tables finds a few per thousand suppressed cells) is not caught.
Counts published again that the catalogue does not state (``base``, ``same_counts``) are not
linked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl

from cpmds.catalogue import INDICATOR_VALUE_KEY, Catalogue, load_catalogue
from cpmds.contract import Contract, load_contract

SMALLEST, LARGEST = 1, 4  # a tested count in this range is disclosive (zero is shown)
KEY = INDICATOR_VALUE_KEY
# The order of rows for ties: every key, the period by its start.
TIE_ORDER = (
    "indicator_id",
    "area_type",
    "area_code",
    "period_type",
    "period_start",
    "period_label",
    "breakdown",
    "breakdown_value",
)
NUMBERS = ("numerator", "denominator", "value", "ci_lower", "ci_upper", "n_children")
REASONS = ("primary", "secondary", "consistency")
UNITS = ("count", "distinct_children", "rate_per_1000", "percent", "median_days")
AREA_TYPES = ("council", "cpc", "scotland")
TOTAL = "total"
MONTH = "month"
GROUP_KINDS = (
    "breakdown",
    "council_cpc",
    "council_scotland",
    "cpc_scotland",
    "month_quarter",
    "month_year",
    "quarter_year",
)
_NONE, _PRIMARY, _SECONDARY, _CONSISTENCY = 0, 1, 2, 3
_CELL_KEY = ("indicator_id", "breakdown", "breakdown_value")  # fixed in area and period groups


def suppress(
    values: pl.DataFrame,
    catalogue: Catalogue | None = None,
    contract: Contract | None = None,
) -> pl.DataFrame:
    """``values`` (the columns of ``marts.indicator_values``) with disclosure control applied: the
    same rows in the same order plus ``suppressed`` and ``suppression_reason`` (``primary``,
    ``secondary``, ``consistency`` or null), every number of a suppressed row null.

    Raises ``ValueError`` for rows it cannot protect: a key given twice, or an unknown unit, area
    type or breakdown."""
    catalogue = load_catalogue() if catalogue is None else catalogue
    contract = load_contract() if contract is None else contract
    _check(values, catalogue)
    rows = values.select(
        *KEY, "period_start", "period_end", "unit", "numerator", "denominator", "n_children"
    ).with_row_index("row")
    reason = np.where(_primary(rows), _PRIMARY, _NONE).astype(np.int8)
    if rows.height:
        _settle(
            reason,
            size=_size(rows, catalogue),
            tie=_tie_rank(rows),
            kinds=_groups(rows, catalogue, contract),
            links=_links(rows, catalogue, contract),
        )
    return _apply(values, reason)


# --- checks and primary ------------------------------------------------------------------------


def _check(values: pl.DataFrame, catalogue: Catalogue) -> None:
    missing = [c for c in (*KEY, "period_start", "period_end", "unit", *NUMBERS) if c not in values]
    if missing:
        raise ValueError(f"indicator values lack the columns {missing}")
    if values.select(pl.struct(KEY).is_duplicated().any()).item():
        raise ValueError("indicator values repeat a key (indicator, area, period, breakdown)")
    for column, known in (
        ("unit", UNITS),
        ("area_type", AREA_TYPES),
        ("breakdown", (TOTAL, *catalogue.breakdown_by_name)),
    ):
        unknown = set(values[column].unique().to_list()) - set(known)
        if unknown:
            raise ValueError(
                f"indicator values have an unknown {column}: {sorted(map(str, unknown))}"
            )


def _small(column: pl.Expr) -> pl.Expr:
    return column.is_between(SMALLEST, LARGEST).fill_null(False)


def _primary(rows: pl.DataFrame) -> np.ndarray:
    numerator, denominator = pl.col("numerator"), pl.col("denominator")
    unit = pl.col("unit")
    rule = (
        pl.when(pl.col("n_children").is_not_null())
        .then(_small(pl.col("n_children")))
        .when(unit.is_in(["count", "distinct_children"]))
        .then(_small(numerator))
        .when(unit == "percent")
        .then(_small(numerator) | _small(denominator) | _small(denominator - numerator))
        .otherwise(_small(numerator) | _small(denominator))
    )
    return rows.select(rule.fill_null(False))[:, 0].to_numpy().astype(bool)


def primary_suppressed(rows: pl.DataFrame) -> pl.Series:
    """The primary rule alone, for aggregates published outside ``indicator_values`` (the quality
    report's consistency checks): ``rows`` has ``unit``, ``numerator``, ``denominator`` and
    ``n_children``; true where a row is disclosive."""
    return pl.Series("suppressed", _primary(rows), dtype=pl.Boolean)


def _size(rows: pl.DataFrame, catalogue: Catalogue) -> np.ndarray:
    """A cell's size as a secondary candidate (non-zero when above 0; -1, never chosen, when
    unknown): ``n_children`` where set; the denominator where it counts what the cell is about (a
    percentage's base, a rate not per population such as MDS37's pupils); else the numerator."""
    by_denominator = [
        indicator.id
        for indicator in catalogue.indicators
        if indicator.unit == "percent"
        or (indicator.unit == "rate_per_1000" and indicator.denominator.kind != "population")
    ]
    size = (
        pl.when(pl.col("n_children").is_not_null())
        .then(pl.col("n_children"))
        .when(pl.col("unit").eq("percent") | pl.col("indicator_id").is_in(by_denominator))
        .then(pl.col("denominator"))
        .otherwise(pl.col("numerator"))
    )
    return rows.select(size.cast(pl.Int64).fill_null(-1))[:, 0].to_numpy()


def _tie_rank(rows: pl.DataFrame) -> np.ndarray:
    order = rows.sort(TIE_ORDER, nulls_last=True, maintain_order=True)["row"].to_numpy()
    rank = np.empty(rows.height, dtype=np.int64)
    rank[order] = np.arange(rows.height)
    return rank


def _tiers(rows: pl.DataFrame, catalogue: Catalogue) -> np.ndarray:
    """0 for an indicator that is a percentage's base or that another publishes a count of again
    (``same_counts``), 1 otherwise: these settle first so that their secondary cells reach the
    others (consistency) before those choose their own."""
    bases = {i.denominator.base for i in catalogue.indicators if i.denominator.base is not None}
    bases |= {other for _, other in same_count_links(catalogue)}
    tier = ~pl.col("indicator_id").is_in(sorted(bases))
    return rows.select(tier.cast(pl.Int8))[:, 0].to_numpy()


# --- groups ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """The groups of one kind: member ``row``s, each with its dense ``group`` and ``is_total``,
    sorted by group."""

    name: str
    group: np.ndarray
    row: np.ndarray
    is_total: np.ndarray
    tier: np.ndarray  # the member's indicator's tier
    count: int


def _kind(name: str, pairs: pl.DataFrame, tier: np.ndarray) -> _Kind:
    """Groups from ``(total, part, sub)`` rows: one group per total row and ``sub``."""
    totals = pairs.select("total", "sub").unique()
    members = pl.concat(
        [
            pairs.select(
                "total", "sub", pl.col("part").alias("row"), pl.lit(False).alias("is_total")
            ),
            totals.select(
                "total", "sub", pl.col("total").alias("row"), pl.lit(True).alias("is_total")
            ),
        ]
    ).sort("total", "sub", "is_total", "row")
    total = members["total"].to_numpy().astype(np.int64)
    sub = members["sub"].to_numpy().astype(np.int64)
    subs = int(sub.max()) + 1 if sub.size else 1
    _, key = np.unique(total * subs + sub, return_inverse=True)
    row = members["row"].to_numpy().astype(np.int64)
    return _Kind(
        name=name,
        group=key.astype(np.int64),
        row=row,
        is_total=members["is_total"].to_numpy(),
        tier=tier[row] if row.size else row,
        count=int(key.max()) + 1 if key.size else 0,
    )


def _pairs(
    parts: pl.DataFrame, totals: pl.DataFrame, on: Iterable[str], sub: pl.Expr
) -> pl.DataFrame:
    on = list(on)
    return parts.join(totals.select(*on, pl.col("row").alias("total")), on=on, how="inner").select(
        "total", pl.col("row").alias("part"), sub.cast(pl.Int64).alias("sub")
    )


def _groups(rows: pl.DataFrame, catalogue: Catalogue, contract: Contract) -> list[_Kind]:
    tier = _tiers(rows, catalogue)
    kinds = [_kind(name, pairs, tier) for name, pairs in _group_pairs(rows, catalogue, contract)]
    return sorted(kinds, key=lambda kind: GROUP_KINDS.index(kind.name))


def _group_pairs(
    rows: pl.DataFrame, catalogue: Catalogue, contract: Contract
) -> list[tuple[str, pl.DataFrame]]:
    no_sub = pl.lit(0)
    # Breakdowns: the values of a single-valued breakdown under the total row.
    adding = [b.name for b in catalogue.breakdowns if b.adds_up]
    parts = rows.filter(pl.col("breakdown").is_in(adding)).with_columns(
        pl.col("breakdown").cast(pl.Enum(adding)).to_physical().alias("breakdown_index")
    )
    totals = rows.filter(pl.col("breakdown") == TOTAL)
    area_period = ["indicator_id", "area_type", "area_code", "period_type", "period_label"]
    kinds = [("breakdown", _pairs(parts, totals, area_period, pl.col("breakdown_index")))]

    # Areas: councils under their joint CPC, councils and CPCs under Scotland.
    cell_period = [*_CELL_KEY, "period_type", "period_label"]
    councils = rows.filter(pl.col("area_type") == "council")
    cpcs = rows.filter(pl.col("area_type") == "cpc")
    scotland = rows.filter(pl.col("area_type") == "scotland")
    joint = _council_cpcs(contract, joint=True)
    in_joint = councils.join(joint, on="area_code", how="inner").drop("area_code")
    in_joint = in_joint.rename({"cpc_code": "area_code"})
    kinds += [
        ("council_cpc", _pairs(in_joint, cpcs, [*cell_period, "area_code"], no_sub)),
        ("council_scotland", _pairs(councils, scotland, cell_period, no_sub)),
        ("cpc_scotland", _pairs(cpcs, scotland, cell_period, no_sub)),
    ]

    # Periods: the months inside a quarter or a statistical year; and a year's quarters wholly
    # inside it with its months outside them (2023/24 = Q4 + Q1 + Q2 + Aug + Sep + Jul).
    cell_area = [*_CELL_KEY, "area_type", "area_code"]
    within = _periods_within(rows)
    in_year = within.filter(pl.col("parent_type") == "year")
    quarters = in_year.filter(pl.col("child_type") == "quarter")
    in_quarters = within.filter(
        (pl.col("child_type") == MONTH) & (pl.col("parent_type") == "quarter")
    ).join(
        quarters.select(
            pl.col("child_label").alias("parent_label"), pl.col("parent_label").alias("year")
        ),
        on="parent_label",
    )
    outside = in_year.filter(pl.col("child_type") == MONTH).join(
        in_quarters.select(pl.col("child_label"), pl.col("year").alias("parent_label")),
        on=["child_label", "parent_label"],
        how="anti",
    )
    outside = outside.join(quarters.select("parent_label").unique(), on="parent_label")
    for name, children in (
        ("month_quarter", within.filter(pl.col("parent_type") == "quarter")),
        ("month_year", in_year.filter(pl.col("child_type") == MONTH)),
        ("quarter_year", pl.concat([quarters, outside])),
    ):
        parts = rows.join(
            children.select("child_type", "child_label", "parent_type", "parent_label"),
            left_on=["period_type", "period_label"],
            right_on=["child_type", "child_label"],
        )
        parts = parts.drop("period_type", "period_label").rename(
            {"parent_type": "period_type", "parent_label": "period_label"}
        )
        on = [*cell_area, "period_type", "period_label"]
        kinds.append((name, _pairs(parts, rows, on, no_sub)))
    return kinds


def _council_cpcs(contract: Contract, *, joint: bool) -> pl.DataFrame:
    """``(area_code, cpc_code)``: each council of a joint CPC (or of a single-council CPC)."""
    pairs = [
        (council, cpc.code)
        for cpc in contract.reference.cpcs
        if (len(cpc.councils) > 1) == joint
        for council in cpc.councils
    ]
    return pl.DataFrame(
        {"area_code": [c for c, _ in pairs], "cpc_code": [p for _, p in pairs]},
        schema={"area_code": pl.String, "cpc_code": pl.String},
    )


_PERIOD_RANK = {"month": 0, "quarter": 1, "year": 2}


def _periods_within(rows: pl.DataFrame) -> pl.DataFrame:
    """``(child_type, child_label, parent_type, parent_label, same_end)``: each month inside a
    quarter or year and each quarter inside a year, from the periods' dates; ``same_end`` when
    the child is the parent's last."""
    periods = rows.select("period_type", "period_label", "period_start", "period_end").unique()
    periods = periods.drop_nulls().with_columns(
        pl.col("period_type").replace_strict(_PERIOD_RANK, default=None).alias("rank")
    )
    children = periods.rename({c: c.replace("period", "child") for c in periods.columns})
    parents = periods.rename({c: c.replace("period", "parent") for c in periods.columns})
    return (
        children.rename({"rank": "child_rank"})
        .join(parents.rename({"rank": "parent_rank"}), how="cross")
        .filter(
            (pl.col("child_rank") < pl.col("parent_rank"))
            & (pl.col("parent_start") <= pl.col("child_start"))
            & (pl.col("child_end") <= pl.col("parent_end"))
        )
        .select(
            "child_type",
            "child_label",
            "parent_type",
            "parent_label",
            (pl.col("child_end") == pl.col("parent_end")).alias("same_end"),
        )
        .sort("parent_label", "child_label")
    )


# --- consistency links -------------------------------------------------------------------------


def base_links(catalogue: Catalogue) -> dict[str, str]:
    """Each percentage whose denominator is another indicator's count, with that base indicator."""
    return {
        indicator.id: indicator.denominator.base
        for indicator in catalogue.indicators
        if indicator.denominator.kind == "indicator" and indicator.denominator.base is not None
    }


def same_count_links(catalogue: Catalogue) -> list[tuple[str, str]]:
    """``(indicator, other)`` for each catalogue ``same_counts`` entry: a count of the indicator's
    rows that the other's rows of the same area, period and breakdown publish again."""
    return sorted(
        {
            (indicator.id, same.indicator)
            for indicator in catalogue.indicators
            for same in indicator.same_counts
        }
    )


def _links(
    rows: pl.DataFrame, catalogue: Catalogue, contract: Contract
) -> tuple[np.ndarray, np.ndarray]:
    """``(source, target)`` row pairs: the target is suppressed whenever the source is."""
    pairs: list[pl.DataFrame] = []
    area_period = ["area_type", "area_code", "period_type", "period_label"]

    # A base's count is its percentages' denominator (its total where it lacks the breakdown).
    links = base_links(catalogue)
    if links:
        of = pl.DataFrame({"indicator_id": list(links), "base": list(links.values())})
        has = pl.DataFrame(
            [
                (indicator.id, name)
                for indicator in catalogue.indicators
                for name in indicator.breakdown_names
            ],
            schema={"base": pl.String, "breakdown": pl.String},
            orient="row",
        ).with_columns(pl.lit(True).alias("base_has"))
        percentages = (
            rows.join(of, on="indicator_id", how="inner")
            .join(has, on=["base", "breakdown"], how="left")
            .with_columns(
                pl.when(pl.col("base_has")).then(pl.col(c)).otherwise(pl.lit(TOTAL)).alias(c)
                for c in ("breakdown", "breakdown_value")
            )
            .select(
                *area_period,
                "breakdown",
                "breakdown_value",
                pl.col("base").alias("indicator_id"),
                "row",
            )
        )
        pairs.append(
            rows.join(
                percentages, on=[*area_period, "breakdown", "breakdown_value", "indicator_id"]
            ).select(pl.col("row").alias("source"), pl.col("row_right").alias("target"))
        )

    # A count another indicator publishes again, in its row of the same area, period and breakdown.
    same_counts = same_count_links(catalogue)
    if same_counts:
        of = pl.DataFrame(
            {"indicator_id": [a for a, _ in same_counts], "other": [b for _, b in same_counts]}
        )
        same = (
            rows.join(of, on="indicator_id", how="inner")
            .join(
                rows.rename({"indicator_id": "other"}),
                on=[*area_period, "other", "breakdown", "breakdown_value"],
            )
            .select(pl.col("row").alias("source"), pl.col("row_right").alias("target"))
        )
        pairs += [
            same,
            same.select(pl.col("target").alias("source"), pl.col("source").alias("target")),
        ]

    # A single-council CPC publishes its council's cells again.
    single = _council_cpcs(contract, joint=False)
    cell_period = [*_CELL_KEY, "period_type", "period_label"]
    councils = rows.filter(pl.col("area_type") == "council").join(single, on="area_code")
    cpcs = rows.filter(pl.col("area_type") == "cpc").rename({"area_code": "cpc_code"})
    same = councils.join(cpcs, on=[*cell_period, "cpc_code"]).select(
        pl.col("row").alias("source"), pl.col("row_right").alias("target")
    )
    pairs += [same, same.select(pl.col("target").alias("source"), pl.col("source").alias("target"))]

    # A stock indicator's quarter or year is the count of the month (or quarter) it ends with.
    stock = [i.id for i in catalogue.indicators if i.kind == "stock"]
    ends = _periods_within(rows).filter(pl.col("same_end"))
    cell_area = [*_CELL_KEY, "area_type", "area_code"]
    children = rows.filter(pl.col("indicator_id").is_in(stock)).join(
        ends.select("child_type", "child_label", "parent_type", "parent_label"),
        left_on=["period_type", "period_label"],
        right_on=["child_type", "child_label"],
    )
    children = children.select(
        *cell_area,
        pl.col("parent_type").alias("period_type"),
        pl.col("parent_label").alias("period_label"),
        "row",
    )
    same = children.join(rows, on=[*cell_area, "period_type", "period_label"]).select(
        pl.col("row").alias("source"), pl.col("row_right").alias("target")
    )
    pairs += [same, same.select(pl.col("target").alias("source"), pl.col("source").alias("target"))]

    both = pl.concat(pairs).unique().sort("source", "target")
    return (
        both["source"].to_numpy().astype(np.int64),
        both["target"].to_numpy().astype(np.int64),
    )


# --- settling ----------------------------------------------------------------------------------


def _settle(
    reason: np.ndarray,
    *,
    size: np.ndarray,
    tie: np.ndarray,
    kinds: list[_Kind],
    links: tuple[np.ndarray, np.ndarray],
) -> None:
    """Secondary and consistency steps, in place on ``reason``, until nothing changes."""
    suppressed = reason != _NONE
    _follow_links(suppressed, reason, links)
    changed = True
    while changed:
        changed = False
        for kind in kinds:
            for level in (0, 1):
                chosen = _secondary(kind, suppressed, size, tie, level)
                if chosen.size:
                    suppressed[chosen] = True
                    reason[chosen] = _SECONDARY
                    _follow_links(suppressed, reason, links)
                    changed = True


def _secondary(
    kind: _Kind, suppressed: np.ndarray, size: np.ndarray, tie: np.ndarray, level: int
) -> np.ndarray:
    """The rows to suppress so that no group of ``kind`` (of indicators of tier ``level``) has
    exactly one suppressed member: in each such group, its smallest other non-zero part, else its
    total."""
    if kind.count == 0:
        return np.empty(0, dtype=np.int64)
    unknown = suppressed[kind.row]
    unknowns = np.bincount(kind.group[unknown], minlength=kind.count)
    candidate = (unknowns[kind.group] == 1) & ~unknown & (size[kind.row] > 0) & (kind.tier == level)
    at = np.flatnonzero(candidate)
    if not at.size:
        return np.empty(0, dtype=np.int64)
    rows = kind.row[at]
    at = at[np.lexsort((tie[rows], size[rows], kind.is_total[at], kind.group[at]))]
    groups = kind.group[at]
    first = np.ones(at.size, dtype=bool)
    first[1:] = groups[1:] != groups[:-1]
    return np.unique(kind.row[at[first]])


def _follow_links(
    suppressed: np.ndarray, reason: np.ndarray, links: tuple[np.ndarray, np.ndarray]
) -> None:
    source, target = links
    while True:
        reached = suppressed[source] & ~suppressed[target]
        if not reached.any():
            return
        new = np.unique(target[reached])
        suppressed[new] = True
        reason[new] = _CONSISTENCY


# --- output ------------------------------------------------------------------------------------


def _apply(values: pl.DataFrame, reason: np.ndarray) -> pl.DataFrame:
    code = pl.Series("code", reason, dtype=pl.Int8)
    suppressed = pl.Series("suppressed", reason != _NONE, dtype=pl.Boolean)
    labels = dict(enumerate(REASONS, start=1))
    why = code.replace_strict(labels, default=None, return_dtype=pl.String).alias(
        "suppression_reason"
    )
    published = values.with_columns(suppressed, why)
    return published.with_columns(
        pl.when(~pl.col("suppressed")).then(pl.col(column)).alias(column) for column in NUMBERS
    )
