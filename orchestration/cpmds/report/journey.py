"""Section 6: the child's journey through the process over the latest statistical year, for
Scotland and each CPC, from published counts only.

The steps are the catalogue's ``journey`` chain (IRD -> investigation -> planning meeting ->
registration), with concerns received before it and the ways out after it (deregistrations, and
re-registrations within 18 months). A percentage in the chain contributes its numerator, the
"of which" count it is the share of (IRDs leading to investigation, meetings deciding to register).
A suppressed count is shown as ``*`` and drawn as no bar; nothing is worked out from others.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from cpmds.catalogue import Catalogue
from cpmds.report.charts import Step, journey_figure
from cpmds.report.published import Area
from cpmds.report.render import Charts

CHAIN = "journey"
BEFORE = ("MDS01",)  # concerns received, the front door
AFTER = ("MDS20", "MDS21")  # out again: deregistrations; back again: re-registrations
SUPPRESSED_MARK = "*"
CPC_COLUMNS = 3


def journey_steps(catalogue: Catalogue) -> list[dict[str, Any]]:
    """The steps in order: indicator, the published column to read, its label and its kind."""
    chain = next(group for group in catalogue.chains if group.id == CHAIN)
    steps = []
    for indicator_id in (*BEFORE, *chain.members, *AFTER):
        indicator = catalogue.indicator_by_id[indicator_id]
        kind = (
            "out" if indicator_id in AFTER else "of_which" if indicator.unit == "percent" else "in"
        )
        steps.append(
            {
                "indicator_id": indicator_id,
                "column": "numerator",
                "label": indicator.name,
                "kind": kind,
                "percent": indicator.unit == "percent",
            }
        )
    return steps


def journey_section(
    steps: list[dict[str, Any]],
    cells: pl.DataFrame,
    areas: dict[tuple[str, str], Area],
    charts: Charts | None = None,
) -> dict[str, Any]:
    """Scotland's chart, the CPCs' charts, and the same counts as a table (the charts drawn
    here, or asked for from ``charts``, as in :func:`cpmds.report.indicators.indicator_sections`).
    """
    found = {
        (row["indicator_id"], row["area_type"], row["area_code"]): row
        for row in (cells.to_dicts() if not cells.is_empty() else [])
    }
    table = []
    for key, area in areas.items():
        if key[0] not in ("scotland", "cpc"):
            continue
        area_steps = [_step(step, found.get((step["indicator_id"], *key))) for step in steps]
        if all(step.count is None and step.shown != SUPPRESSED_MARK for step in area_steps):
            continue  # no published figure at all for the area in the year
        table.append({"area": area, "steps": area_steps})
    scotland = [row for row in table if row["area"].area_type == "scotland"]
    cpcs = [row for row in table if row["area"].area_type == "cpc"]
    return {
        "steps": steps,
        "rows": table,
        "scotland_svg": _chart(charts, [(r["area"].name, r["steps"]) for r in scotland], 1)
        if scotland
        else None,
        "cpc_svg": _chart(charts, [(r["area"].name, r["steps"]) for r in cpcs], CPC_COLUMNS)
        if cpcs
        else None,
    }


def _chart(charts: Charts | None, areas: list, columns: int):
    if charts is None:
        return journey_figure(areas, columns)
    return charts.ask("journey", areas, columns)


def _step(step: dict[str, Any], row: dict[str, Any] | None) -> Step:
    label, kind = step["label"], step["kind"]
    if row is None:
        return Step(label, None, "no figure", kind)
    if row["suppressed"]:
        return Step(label, None, SUPPRESSED_MARK, kind)
    count, share = row["count"], row["value"]
    # A percentage's own published value says what share of the step before it went on.
    shown = f"{count:,} ({share:.0f}%)" if step["percent"] and share is not None else f"{count:,}"
    return Step(label, count, shown, kind)
